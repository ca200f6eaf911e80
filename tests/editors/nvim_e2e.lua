-- Headless Neovim 0.11: the specloop language server as a user meets it.
-- Run: nvim --clean --headless -l nvim_e2e.lua
-- Environment: E2E_FILE (the Python file), E2E_CMD (JSON list: the server command),
-- E2E_SETTINGS (JSON object: specloop settings), E2E_OUT (where the JSON result goes),
-- E2E_TIMEOUT_MS (default 120000).
local out_path = assert(os.getenv('E2E_OUT'))
local file = assert(os.getenv('E2E_FILE'))
local cmd = vim.json.decode(assert(os.getenv('E2E_CMD')))
local settings = vim.json.decode(assert(os.getenv('E2E_SETTINGS')))
local TIMEOUT = tonumber(os.getenv('E2E_TIMEOUT_MS') or '120000')
local res = { nvim = tostring(vim.version()), steps = {}, progress = {}, messages = {}, status = {} }

local function step(name) res.steps[#res.steps + 1] = name end
local function wait(what, cond)
  assert(vim.wait(TIMEOUT, cond, 50), 'timeout waiting for ' .. what)
end
local function buffer_text(buf) return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n') end

vim.api.nvim_create_autocmd('LspProgress', {
  callback = function(ev)
    local value = ev.data and ev.data.params and ev.data.params.value or {}
    res.progress[#res.progress + 1] = { kind = value.kind, title = value.title, message = value.message }
    -- what the README's statusline shows at this moment
    res.status[#res.status + 1] = vim.lsp.status()
  end,
})
-- the README's progress lines: the statusline shows vim.lsp.status(), redrawn on progress
vim.o.statusline = '%f %=%{v:lua.vim.lsp.status()} %l:%c'
vim.api.nvim_create_autocmd('LspProgress', { command = 'redrawstatus' })
vim.lsp.handlers['window/showMessage'] = function(_, params)
  res.messages[#res.messages + 1] = params.message
end

local ok, err = pcall(function()
  local root = vim.fs.dirname(file)
  vim.cmd('filetype on')
  vim.lsp.config('specloop', {
    cmd = cmd, filetypes = { 'python' }, root_dir = root,
    init_options = { specloop = settings }, settings = { specloop = settings },
  })
  vim.lsp.enable('specloop')
  vim.cmd.edit(vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  local client
  wait('the server to start', function()
    client = vim.lsp.get_clients({ bufnr = buf, name = 'specloop' })[1]
    return client ~= nil and client.initialized
  end)
  step('initialized')

  -- the user puts the cursor on the stub and picks the action by its title
  local line = vim.fn.search('^def area', 'nw')
  vim.api.nvim_win_set_cursor(0, { line, 4 })
  local titles = {}
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      titles[#titles + 1] = action.title
      return action.title == 'Implement area from spec'
    end,
  })
  wait('the body in the buffer', function() return buffer_text(buf):find('return w * h', 1, true) ~= nil end)
  res.titles = titles
  step('applied')

  local diags
  wait('a specloop diagnostic', function()
    diags = vim.diagnostic.get(buf)
    return #diags > 0
  end)
  res.diagnostics = {}
  for _, d in ipairs(diags) do
    res.diagnostics[#res.diagnostics + 1] = {
      source = d.source, code = d.code, lnum = d.lnum, col = d.col, end_col = d.end_col,
      severity = d.severity, message = d.message,
      text = vim.api.nvim_buf_get_lines(buf, d.lnum, d.lnum + 1, false)[1],
    }
  end
  step('diagnostics')
  wait('the end of the progress', function()
    for _, p in ipairs(res.progress) do
      if p.kind == 'end' then return true end
    end
    return false
  end)
  -- the end message follows the progress end on the wire, but Neovim may hand it over later
  wait('the end message', function() return #res.messages >= 2 end)
  res.buffer = vim.api.nvim_buf_get_lines(buf, 0, -1, false)

  -- the README's cancel mapping (nothing runs any more: nothing to cancel)
  client:exec_cmd({ title = 'Cancel', command = 'specloop.cancel' }, nil, function(err, result)
    res.cancel = err and { error = tostring(err.message) } or result
  end)
  wait('the cancel answer', function() return res.cancel ~= nil end)
  step('cancel')

  client:stop()
  vim.wait(5000, function() return client:is_stopped() end, 50)
  step('stopped')
end)
res.ok = ok
res.error = (not ok) and tostring(err) or nil
local f = assert(io.open(out_path, 'w'))
f:write(vim.json.encode(res))
f:close()
os.exit(ok and 0 or 1)

-- Headless Neovim 0.11: the specloop language server as a user meets it, with the README's
-- Neovim 0.11 configuration (read from README.md), pointed at the test's server.
-- Run: nvim --clean --headless -l nvim_e2e.lua
-- Environment: E2E_FILE (the Python file), E2E_CMD (JSON list: the server command),
-- E2E_SETTINGS (JSON object: specloop settings), E2E_OUT (where the JSON result goes),
-- E2E_TIMEOUT_MS (default 120000).
--
-- "Press ENTER or type command to continue": headless Neovim never shows that prompt, so the
-- script records its causes instead: every window/showMessage (Neovim 0.11 echoes each one
-- with a trailing newline, which is the prompt) and window/showMessageRequest (an inputlist),
-- and what :messages holds from the server at the end.
local out_path = assert(os.getenv('E2E_OUT'))
local file = assert(os.getenv('E2E_FILE'))
local cmd = vim.json.decode(assert(os.getenv('E2E_CMD')))
local settings = vim.json.decode(assert(os.getenv('E2E_SETTINGS')))
local TIMEOUT = tonumber(os.getenv('E2E_TIMEOUT_MS') or '120000')
-- the README's Neovim 0.11 block, read from the README next to this script's folder
local here = vim.fn.fnamemodify(assert(_G.arg[0]), ':p:h')
local readme_text = table.concat(vim.fn.readfile(vim.fs.joinpath(here, '..', '..', 'README.md')), '\n')
local readme = assert(readme_text:match('Neovim 0%.11%+:\n```lua\n(.-)\n```'), 'no Neovim 0.11 block in the README')
local res = { nvim = tostring(vim.version()), steps = {}, progress = {}, messages = {}, requests = {}, status = {},
              lenses = {} }

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
-- what would stop the user: recorded, then handled as Neovim does (a question is not answered)
local show_message = vim.lsp.handlers['window/showMessage']
vim.lsp.handlers['window/showMessage'] = function(err, params, ctx)
  res.messages[#res.messages + 1] = params.message
  return show_message(err, params, ctx)
end
vim.lsp.handlers['window/showMessageRequest'] = function(_, params)
  res.requests[#res.requests + 1] = params.message
  return vim.NIL
end

local ok, err = pcall(function()
  local root = vim.fs.dirname(file)
  vim.cmd('filetype on')
  assert(load(readme, 'README.md'))()      -- the README's config: server, keymaps, statusline, lenses, virtual text
  vim.lsp.config('specloop', {        -- merged into it: this test's server, settings and folder
    cmd = cmd, root_dir = root, init_options = { specloop = settings }, settings = { specloop = settings },
  })
  vim.cmd.edit(vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  local client
  wait('the server to start', function()
    client = vim.lsp.get_clients({ bufnr = buf, name = 'specloop' })[1]
    return client ~= nil and client.initialized
  end)
  step('initialized')
  -- the README's autocmds fetch the code lenses
  wait('the code lenses', function()
    local lenses = vim.lsp.codelens.get(buf)
    for _, lens in ipairs(lenses) do
      if lens.command then res.lenses[#res.lenses + 1] = lens.command.title end
    end
    return #res.lenses > 0
  end)
  res.virtual_text = vim.diagnostic.config().virtual_text and true or false

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
  res.buffer = vim.api.nvim_buf_get_lines(buf, 0, -1, false)

  -- a job whose result is not applied (perimeter has nothing to test it: "untested"): offered
  -- by a test.failed diagnostic, whose quick fix opens the diff of the best attempt
  local pline = vim.fn.search('^def perimeter', 'nw')
  local ended = #res.progress
  client:exec_cmd({ title = 'Implement', command = 'specloop.generate',
                    arguments = { { uri = vim.uri_from_bufnr(buf), target = 'perimeter' } } })
  wait('the offered diagnostic', function()
    for _, d in ipairs(vim.diagnostic.get(buf, { lnum = pline - 1 })) do
      if d.code == 'test.failed' then res.offered = d.message; return true end
    end
    return false
  end)
  wait('the end of its progress', function()
    for i = ended + 1, #res.progress do
      if res.progress[i].kind == 'end' then res.offer_end = res.progress[i].message; return true end
    end
    return false
  end)
  vim.api.nvim_win_set_cursor(0, { pline, 4 })
  local fixes = {}
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      fixes[#fixes + 1] = action.title
      return action.title == 'Show the diff of the best attempt'
    end,
  })
  wait('the diff in the window', function()
    return vim.api.nvim_buf_get_name(0):match('%.diff$') ~= nil
  end)
  res.fixes = fixes
  res.diff_name = vim.api.nvim_buf_get_name(0)
  res.diff = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  res.diff_filetype = vim.bo.filetype
  step('diff')
  vim.cmd.buffer(buf)
  res.errmsg = vim.v.errmsg

  -- the README's cancel mapping (nothing runs any more: nothing to cancel)
  client:exec_cmd({ title = 'Cancel', command = 'specloop.cancel' }, nil, function(err, result)
    res.cancel = err and { error = tostring(err.message) } or result
  end)
  wait('the cancel answer', function() return res.cancel ~= nil end)
  step('cancel')

  res.history = vim.fn.execute('messages')      -- before the stop: only what the job did
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

-- Headless Neovim 0.7 (Debian 12's): a smoke run of the specloop language server.
-- Run: nvim --headless --clean -c 'luafile nvim07_e2e.lua'
-- Environment as for nvim_e2e.lua.  0.7 has vim.lsp.start_client and no vim.lsp.config;
-- its vim.lsp.buf.code_action has no `apply`, so the action's command is executed directly.
local out_path = assert(os.getenv('E2E_OUT'))
local file = assert(os.getenv('E2E_FILE'))
local cmd = vim.fn.json_decode(assert(os.getenv('E2E_CMD')))
local settings = vim.fn.json_decode(assert(os.getenv('E2E_SETTINGS')))
local TIMEOUT = tonumber(os.getenv('E2E_TIMEOUT_MS') or '120000')
local v = vim.version()
local res = { nvim = v.major .. '.' .. v.minor .. '.' .. v.patch, steps = {} }

local function step(name) res.steps[#res.steps + 1] = name end
local function finish(code, err)
  res.ok = (code == 0)
  res.error = err
  local f = io.open(out_path, 'w')
  f:write(vim.fn.json_encode(res))
  f:close()
  vim.cmd('cquit ' .. code)
end
local function buffer_text(buf) return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n') end
vim.lsp.handlers['window/showMessage'] = function() end

local ok, err = pcall(function()
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  local initialized = false
  local client_id = vim.lsp.start_client({
    name = 'specloop', cmd = cmd, root_dir = vim.fn.fnamemodify(file, ':h'),
    init_options = { specloop = settings },
    on_init = function() initialized = true end,
  })
  assert(client_id, 'start_client returned nil')
  vim.lsp.buf_attach_client(buf, client_id)
  assert(vim.wait(TIMEOUT, function() return initialized end, 50), 'timeout: initialize')
  step('initialized')

  local line = vim.fn.search('^def area', 'nw') - 1
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = { start = { line = line, character = 4 }, ['end'] = { line = line, character = 4 } },
    context = { diagnostics = {} },
  }
  local responses = assert(vim.lsp.buf_request_sync(buf, 'textDocument/codeAction', params, TIMEOUT))
  local actions = responses[client_id] and responses[client_id].result or {}
  res.titles = {}
  local chosen
  for _, a in ipairs(actions) do
    res.titles[#res.titles + 1] = a.title
    if a.title == 'Implement area from spec' then chosen = a end
  end
  assert(chosen, 'no "Implement area from spec" action')
  local client = vim.lsp.get_client_by_id(client_id)
  local r = client.request_sync('workspace/executeCommand',
    { command = chosen.command.command, arguments = chosen.command.arguments }, TIMEOUT, buf)
  assert(r and not r.err, 'executeCommand failed: ' .. vim.inspect(r))
  step('started')

  assert(vim.wait(TIMEOUT, function() return buffer_text(buf):find('return w * h', 1, true) ~= nil end, 50),
    'timeout: the body did not land')
  step('applied')
  local diags
  assert(vim.wait(TIMEOUT, function()
    diags = vim.diagnostic.get(buf)
    return #diags > 0
  end, 50), 'timeout: no diagnostics')
  res.diagnostics = {}
  for _, d in ipairs(diags) do
    res.diagnostics[#res.diagnostics + 1] = {
      source = d.source, code = d.user_data and d.user_data.lsp and d.user_data.lsp.code or d.code,
      lnum = d.lnum, message = d.message,
      text = vim.api.nvim_buf_get_lines(buf, d.lnum, d.lnum + 1, false)[1],
    }
  end
  step('diagnostics')
  res.buffer = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  client.stop()
  vim.wait(5000, function() return client.is_stopped() end, 50)
  step('stopped')
end)
if ok then finish(0) else finish(1, tostring(err)) end

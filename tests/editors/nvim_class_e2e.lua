-- Headless Neovim 0.11: a class spec implemented with "Implement class Stack from spec".
-- Run: nvim --clean --headless -c 'luafile nvim_class_e2e.lua'
-- Environment as for nvim_e2e.lua.  Unlike nvim_e2e.lua (a `-l` script that waits with
-- vim.wait, where every change joins one undo step), everything here happens in callbacks
-- of Neovim's main loop, as for a user: the main loop closes the open undo step before it
-- handles the events that have arrived (as it does before each typed key), so an edit that
-- arrives as a message of its own is an undo step of its own.  Each workspace/applyEdit is
-- also counted as it arrives.  Writes what the user saw to E2E_OUT and quits (0: ran to the end).
local out_path = assert(os.getenv('E2E_OUT'))
local file = assert(os.getenv('E2E_FILE'))
local cmd = vim.json.decode(assert(os.getenv('E2E_CMD')))
local settings = vim.json.decode(assert(os.getenv('E2E_SETTINGS')))
local TIMEOUT = tonumber(os.getenv('E2E_TIMEOUT_MS') or '120000')
local ACTION = 'Implement class Stack from spec'
local res = { nvim = tostring(vim.version()), steps = {}, progress = {}, apply_edits = {}, titles = {} }

local function step(name) res.steps[#res.steps + 1] = name end
local finished = false
local function finish(ok, err)
  if finished then return end
  finished = true
  res.ok = ok
  res.error = err
  local f = assert(io.open(out_path, 'w'))
  f:write(vim.json.encode(res))
  f:close()
  vim.cmd(ok and 'qall!' or 'cquit! 1')
end
-- a callback that fails ends the run with its error
local function guarded(fn)
  return function(...)
    local ok, err = pcall(fn, ...)
    if not ok then finish(false, tostring(err)) end
  end
end
vim.defer_fn(function() finish(false, 'timeout after ' .. TIMEOUT .. ' ms; steps: ' .. table.concat(res.steps, ', ')) end,
  TIMEOUT)

-- every workspace/applyEdit the server sends is noted (its label, how many text edits), then
-- handled by Neovim's own handler
local apply_edit = vim.lsp.handlers['workspace/applyEdit']
vim.lsp.handlers['workspace/applyEdit'] = function(err, params, ctx, config)
  local edits = 0
  for _, change in ipairs(params.edit.documentChanges or {}) do edits = edits + #(change.edits or {}) end
  for _, list in pairs(params.edit.changes or {}) do edits = edits + #list end
  res.apply_edits[#res.apply_edits + 1] = { label = params.label, edits = edits }
  return apply_edit(err, params, ctx, config)
end
vim.lsp.handlers['window/showMessage'] = function() end

local buf
local function lines() return vim.api.nvim_buf_get_lines(buf, 0, -1, false) end

-- the job is over (its progress ended): what the buffer holds, then one :undo
local function after_the_job()
  res.buffer = lines()
  res.undo_steps = vim.fn.undotree(buf).seq_last
  step('job ended')
  vim.cmd('undo')
  res.after_undo = lines()
  res.modified_after_undo = vim.bo[buf].modified
  step('undone')
  local client = vim.lsp.get_clients({ bufnr = buf, name = 'specloop' })[1]
  client:stop()
  local timer = assert(vim.uv.new_timer())
  local waited = 0
  timer:start(50, 50, vim.schedule_wrap(guarded(function()
    waited = waited + 50
    if client:is_stopped() or waited >= 5000 then
      timer:stop()
      timer:close()
      step('stopped')
      finish(true)
    end
  end)))
end

vim.api.nvim_create_autocmd('LspProgress', {
  callback = guarded(function(ev)
    local value = ev.data and ev.data.params and ev.data.params.value or {}
    res.progress[#res.progress + 1] = { kind = value.kind, title = value.title, message = value.message }
    if value.kind == 'end' then vim.schedule(guarded(after_the_job)) end
  end),
})

-- the server is up: the user puts the cursor on the class and picks the action by its title
vim.api.nvim_create_autocmd('LspAttach', {
  once = true,
  callback = guarded(function(ev)
    step('attached')
    local line = vim.fn.search('^class Stack', 'nw')
    vim.api.nvim_win_set_cursor(0, { line, 6 })
    res.undo_steps_before = vim.fn.undotree(ev.buf).seq_last
    vim.lsp.buf.code_action({
      apply = true,
      filter = function(action)
        res.titles[#res.titles + 1] = action.title
        return action.title == ACTION
      end,
    })
    step('action requested')
  end),
})

local ok, err = pcall(function()
  vim.cmd('filetype on')
  vim.lsp.config('specloop', {
    cmd = cmd, filetypes = { 'python' }, root_dir = vim.fs.dirname(file),
    init_options = { specloop = settings }, settings = { specloop = settings },
  })
  vim.lsp.enable('specloop')
  vim.cmd.edit(vim.fn.fnameescape(file))
  buf = vim.api.nvim_get_current_buf()
  res.stub = lines()
end)
if not ok then finish(false, tostring(err)) end

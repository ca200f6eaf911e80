import { strict as assert } from 'assert';
import { test } from 'node:test';
import { applyStatus, EMPTY_SESSION, formatCost, formatStatus, formatTokens, parsePending } from '../src/status';

test('without a status notification the item shows the server state only', () => {
  const view = formatStatus('running', EMPTY_SESSION);
  assert.equal(view.text, '$(check) specloop');
  assert.ok(view.tooltip.includes('ready') && view.tooltip.includes('Click to show the output'));
  assert.ok(!view.tooltip.includes('Session'));
  assert.equal(formatStatus('starting', EMPTY_SESSION).text, '$(loading~spin) specloop');
  assert.equal(formatStatus('failed', EMPTY_SESSION, 'specloop is not installed').tooltip.split('\n')[1], 'specloop is not installed');
  assert.ok(formatStatus('untrusted', EMPTY_SESSION).tooltip.includes('untrusted'));
});

test('running jobs, tokens and cost from specloop/status', () => {
  let s = applyStatus(EMPTY_SESSION, { running: 2, prompt_tokens: 1000, completion_tokens: 234, cost_usd: 0.0031 });
  assert.equal(formatStatus('running', s).text, '$(sync~spin) specloop: 2 jobs · 1.2k tok · $0.0031');
  s = applyStatus(s, { running: 1 });
  assert.equal(formatStatus('running', s).text, '$(sync~spin) specloop: 1 job · 1.2k tok · $0.0031');
  s = applyStatus(s, { running: 0, prompt_tokens: 52000, completion_tokens: 1000, cost_usd: 1.5 });
  const idle = formatStatus('running', s);
  assert.equal(idle.text, '$(check) specloop · 53k tok · $1.50');
  assert.ok(idle.tooltip.includes('52000 prompt + 1000 completion tokens, $1.50'));
});

test('a model without a price shows tokens only; bad fields are ignored', () => {
  let s = applyStatus(EMPTY_SESSION, { running: 1, prompt_tokens: 10, completion_tokens: 5, cost_usd: null });
  assert.equal(formatStatus('running', s).text, '$(sync~spin) specloop: 1 job · 15 tok');
  s = applyStatus(s, { running: -3, prompt_tokens: 'many', completion_tokens: Number.NaN, cost_usd: 'free' });
  assert.deepEqual(s, { running: 1, queued: 0, promptTokens: 10, completionTokens: 5, costUsd: null, pending: [], reported: true });
  assert.equal(applyStatus(s, null), s);
  assert.equal(applyStatus(s, 'x'), s);
});

test('queued jobs, and results waiting for review once nothing runs', () => {
  const failing = { uri: 'file:///ws/geo.py', target: 'area', status: 'failed', summary: 'failed: 1/3 tests passed' };
  let s = applyStatus(EMPTY_SESSION, { running: 1, queued: 2, prompt_tokens: 0, completion_tokens: 0, pending: [] });
  assert.equal(formatStatus('running', s).text, '$(sync~spin) specloop: 1 job (+2 queued)');
  assert.ok(formatStatus('running', s).tooltip.includes('1 job running, 2 queued'));
  assert.equal(formatStatus('running', applyStatus(s, { running: 0, queued: 1 })).text, '$(sync~spin) specloop: 1 queued');
  s = applyStatus(s, { running: 1, queued: 0, pending: [failing] });
  assert.equal(formatStatus('running', s).text, '$(sync~spin) specloop: 1 job', 'running jobs come first');
  assert.equal(formatStatus('running', s).click, 'output');
  s = applyStatus(s, { running: 0, queued: 0, pending: [failing] });
  const view = formatStatus('running', s);
  assert.equal(view.text, '$(diff) specloop: 1 to review');
  assert.equal(view.click, 'review');
  assert.ok(view.tooltip.includes('area: failed: 1/3 tests passed') && view.tooltip.endsWith('Click to review them.'), view.tooltip);
  // A cancelled or failed job that left nothing: the item is back to ready.
  s = applyStatus(s, { running: 0, queued: 0, pending: [] });
  assert.equal(formatStatus('running', s).text, '$(check) specloop');
  assert.equal(formatStatus('stopped', applyStatus(s, { pending: [failing] })).click, 'output');
});

test('pending entries are read leniently; a server without the field keeps an empty list', () => {
  assert.deepEqual(parsePending([{ uri: 'u', target: 't' }, { uri: 'u' }, null, 'x', { uri: 1, target: 't' },
    { uri: 'u', target: 't2', status: 'failed', summary: 7 }]), [
    { uri: 'u', target: 't', status: '', summary: '' },
    { uri: 'u', target: 't2', status: 'failed', summary: '' },
  ]);
  assert.equal(parsePending({}), undefined);
  assert.deepEqual(applyStatus(EMPTY_SESSION, { running: 0 }).pending, []);
});

test('number formats', () => {
  assert.deepEqual([950, 1000, 1234, 9999, 12_345, 999_499, 1_500_000].map(formatTokens),
    ['950', '1k', '1.2k', '10k', '12k', '999k', '1.5M']);
  assert.deepEqual([0, 0.00312, 0.42, 12.3].map(formatCost), ['$0', '$0.0031', '$0.42', '$12.30']);
});

// The explorer's core: fetching, escaping, the hash router (#/, #/unit/ID, #/checkpoint/ID,
// #/account/ID, #/token/ID, #/contract/0x.., #/consortium/ID, #/task/ID, #/search/TERM) and
// the per-item pages. Every value from the node goes through esc() (or textContent) before it
// reaches the DOM; ids in links are also URI-encoded. No framework, no build step.
'use strict';

const vein = { config: null, timer: null, refreshing: false };

async function j(path) {
  const r = await fetch(path);
  if (!r.ok) {
    const body = await r.json().catch(() => ({}));
    throw new Error(path + ': ' + r.status + ' ' + (body.error || ''));
  }
  return r.json();
}

// A read whose 404 means "not here" rather than a failure.
async function maybe(path) {
  const r = await fetch(path);
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(path + ': ' + r.status);
  return r.json();
}

async function rpc(method, params) {
  const r = await fetch('/rpc', { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: method, params: params }) });
  const answer = await r.json();
  return answer.result;
}

function esc(s) {
  return String(s).replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;',
    '"': '&quot;', "'": '&#39;' }[c]));
}
function short(s) { return s == null ? '-' : esc(String(s).slice(0, 16)); }
function num(n) { return n == null ? '-' : esc(Number(n).toLocaleString('en-US')); }
function when(ms) { return ms == null ? '-' : esc(new Date(Number(ms)).toISOString()); }
function link(kind, id, text) {
  if (id == null) return '-';
  return '<a href="#/' + kind + '/' + esc(encodeURIComponent(id)) + '">' +
    (text == null ? short(id) : text) + '</a>';
}
function row(cells, cls, id) {
  return '<tr' + (cls ? ' class="' + esc(cls) + '"' : '') +
    (id ? ' data-id="' + esc(id) + '"' : '') + '>' +
    cells.map(c => '<td>' + c + '</td>').join('') + '</tr>';
}
function head(names) {
  return '<tr>' + names.map(n => '<th>' + esc(n) + '</th>').join('') + '</tr>';
}
// A two-column table of already-escaped values.
function kv(id, pairs) {
  return '<table class="kv" id="' + esc(id) + '">' + pairs.map(p => '<tr><th>' + esc(p[0]) +
    '</th><td>' + p[1] + '</td></tr>').join('') + '</table>';
}
function fill(id, html) { const el = document.getElementById(id); if (el) el.innerHTML = html; }
function view(html) { document.getElementById('view').innerHTML = html; }
function section(id, title, body) {
  return '<section class="panel" id="' + esc(id) + '"><h2>' + esc(title) + '</h2>' + body +
    '</section>';
}
function status(text, cls) {
  const el = document.getElementById('updated');
  el.textContent = text;
  if (cls) el.className = cls; else el.removeAttribute('class');
}

// The operator's configuration: title, theme, panels and links.
async function configure() {
  const c = await j('/explorer/config');
  vein.config = c;
  document.title = c.title;
  document.getElementById('title').textContent = c.title;
  document.documentElement.setAttribute('data-theme', c.theme);
  document.getElementById('links').innerHTML = c.links.map(l => '<a href="' + esc(l.url) +
    '" rel="noopener noreferrer">' + esc(l.label) + '</a>').join('');
}

// ---- pages of single items ----

async function unitPage(id) {
  const u = await maybe('/unit/' + encodeURIComponent(id));
  if (!u) return view(section('unit-page', 'Transaction', '<p class="empty">unit ' + esc(id) +
    ' is not held by this node</p>'));
  const t = u.times || {};
  const state = u.confirmed_height == null ? 'pending' : (u.final ? 'final' : esc(u.outcome));
  view(section('unit-page', 'Transaction ' + u.id.slice(0, 16), kv('unit', [
    ['id', esc(u.id)], ['kind', esc(u.kind)], ['status', '<span class="st-' + esc(state) + '">' +
      esc(state) + '</span>'],
    ['from', link('account', u.from, esc(u.from))], ['nonce', num(u.nonce)],
    ['to', u.to == null ? '-' : link('account', u.to, esc(u.to))],
    ['amount', num(u.amount)], ['fee', num(u.fee)],
    ['parents', u.parents.map(p => link('unit', p)).join(' ')],
    ['issued at', when(u.issued_at_ms)], ['confirmed at height', num(u.confirmed_height)],
    ['outcome', u.outcome == null ? '-' : esc(u.outcome)], ['final', esc(u.final)],
    ['seen here', when(t.accepted_ms)], ['confirmed here', when(t.confirmed_ms)],
    ['final here', when(t.final_ms)]])));
}

async function checkpointPage(id) {
  const c = await maybe('/checkpoint/' + encodeURIComponent(id));
  if (!c) return view(section('checkpoint-page', 'Checkpoint', '<p class="empty">checkpoint ' +
    esc(id) + ' is not held by this node</p>'));
  const listed = c.confirmed.map(u => row([link('unit', u.id, esc(u.id)), esc(u.outcome)],
    u.outcome, u.id)).join('');
  const title = 'Checkpoint ' + c.height + ' ' + c.id.slice(0, 16);
  view(section('checkpoint-page', title, kv('checkpoint', [
    ['id', esc(c.id)], ['height', num(c.height)],
    ['branch', c.active ? 'active chain' : 'side branch'], ['final', esc(c.final)],
    ['previous', link('checkpoint', c.prev, esc(c.prev))],
    ['author', link('account', c.author, esc(c.author))], ['timestamp', when(c.timestamp_ms)],
    ['base target', num(c.base_target)], ['ledger root', esc(c.ledger_root)],
    ['generation signature', esc(c.generation_signature)],
    ['parents (units)', c.parents.map(p => link('unit', p)).join(' ') || '-'],
    ['units confirmed', num(c.confirmed_count)]]) +
    '<h2>Units confirmed, in White Flag order</h2>' + (listed ?
      '<table id="confirmed">' + head(['unit', 'outcome']) + listed + '</table>' :
      '<p class="empty">none listed (a side branch, an empty checkpoint, or pruned)</p>')));
}

async function accountPage(id) {
  const b = await j('/balance/' + encodeURIComponent(id));
  const t = await j('/txs?limit=1000');
  const mine = t.txs.filter(x => x.from === b.account || x.to === b.account);
  const k = await j('/tokens?limit=50');
  const holdings = [];
  for (const tk of k.tokens) {
    const h = await j('/token/' + tk.id + '/balance/' + b.account);
    if (h.balance > 0) holdings.push(row([link('token', tk.id, esc(tk.symbol)), num(h.balance)]));
  }
  view(section('account-page', 'Account ' + b.account.slice(0, 16), kv('account', [
    ['account', esc(b.account)], ['balance', '<span class="balance">' + num(b.balance) + '</span>'],
    ['next nonce', num(b.next_nonce)]]) +
    '<h2>Tokens held</h2>' + (holdings.length ? '<table id="holdings">' +
      head(['token', 'balance']) + holdings.join('') + '</table>' :
      '<p class="empty">no token balance</p>') +
    '<h2>Recent transactions</h2>' + (mine.length ? txTable('account-txs', mine) :
      '<p class="empty">none among the transactions this node saw last</p>')));
}

function txTable(id, txs) {
  return '<table id="' + esc(id) + '">' + head(['id', 'from', 'nonce', 'to', 'amount', 'fee',
    'status', 'height']) + txs.map(x => row([link('unit', x.id), link('account', x.from),
    esc(x.nonce), x.to == null ? '-' : link('account', x.to), num(x.amount), num(x.fee),
    '<span class="status">' + esc(x.status) + '</span>',
    x.confirmed_height == null ? '-' : esc(x.confirmed_height)], x.status, x.id)).join('') +
    '</table>';
}

async function tokenPage(id) {
  const x = await maybe('/token/' + encodeURIComponent(id));
  if (!x) return view(section('token-page', 'Token', '<p class="empty">no token ' + esc(id) +
    '</p>'));
  view(section('token-page', 'Token ' + x.symbol, kv('token', [
    ['id', esc(x.id)], ['name', esc(x.name)], ['symbol', esc(x.symbol)],
    ['decimals', num(x.decimals)], ['issuer', link('account', x.issuer, esc(x.issuer))],
    ['total supply', num(x.total_supply)], ['issued', num(x.issued)], ['minted', num(x.minted)],
    ['burned', num(x.burned)], ['cap', num(x.cap)], ['mintable', esc(x.mintable)],
    ['holders', num(x.holders)], ['ERC-20 address', esc(x.erc20_address)],
    ['read at height', num(x.height)]])));
}

async function contractPage(address) {
  const code = await rpc('eth_getCode', [address, 'latest']);
  const r = await j('/evm/receipts?limit=1000');
  const mine = r.receipts.filter(x => x.to === address || x.contract_address === address);
  const bytes = typeof code === 'string' ? Math.max(0, (code.length - 2) / 2) : 0;
  view(section('contract-page', 'Contract ' + address, kv('contract', [
    ['address', esc(address)], ['code', num(bytes) + ' bytes'],
    ['native account', link('account', '000000000000000000000000' + address.slice(2))]]) +
    '<h2>Transactions</h2>' + (mine.length ? receiptTable('contract-receipts', mine) :
      '<p class="empty">none among the newest receipts</p>')));
}

function receiptTable(id, receipts) {
  return '<table id="' + esc(id) + '">' + head(['tx hash', 'height', 'from', 'to / created',
    'status', 'gas', 'logs']) + receipts.map(x => row([short(x.hash), num(x.height),
    short(x.from), x.to == null ? 'created ' + link('contract', x.contract_address) :
    link('contract', x.to), x.success ? 'success' : '<span class="error">failed</span>',
    num(x.gas_used), num(x.logs)], x.success ? 'final' : 'ignored', x.hash)).join('') + '</table>';
}

async function evmTxPage(hash) {
  const x = await rpc('eth_getTransactionReceipt', [hash]);
  if (!x) return view(section('evmtx-page', 'Ethereum transaction', '<p class="empty">no receipt ' +
    esc(hash) + '</p>'));
  view(section('evmtx-page', 'Ethereum transaction', kv('evmtx', [
    ['hash', esc(x.transactionHash)], ['block (height)', esc(parseInt(x.blockNumber, 16))],
    ['from', esc(x.from)], ['to', x.to ? link('contract', x.to, esc(x.to)) : '-'],
    ['contract created', x.contractAddress ? link('contract', x.contractAddress,
      esc(x.contractAddress)) : '-'],
    ['status', x.status === '0x1' ? 'success' : 'failed'],
    ['gas used', esc(parseInt(x.gasUsed, 16))], ['logs', esc(x.logs.length)]])));
}

async function consortiumPage(id) {
  const y = await maybe('/consortium/' + encodeURIComponent(id));
  if (!y) return view(section('consortium-page', 'Consortium', '<p class="empty">no consortium ' +
    esc(id) + '</p>'));
  const a = await j('/consortium/' + encodeURIComponent(id) + '/attestations');
  const cs = y.summary;
  view(section('consortium-page', 'Consortium ' + cs.name, kv('consortium', [
    ['id', esc(cs.id)], ['name', esc(cs.name)],
    ['quorum', esc(cs.quorum) + ' of ' + esc(cs.parties)],
    ['parties', y.parties.map(p => link('account', p)).join(' ')],
    ['member nodes', y.members.map(m => link('account', m.account)).join(' ')],
    ['tables', y.tables.map(t => esc(t.name) + ' (' + esc(t.columns.length) + ' columns)')
      .join(', ')],
    ['actions on chain', num(cs.actions)], ['action log head', esc(cs.action_log_head)],
    ['key epoch', num(cs.key_epoch)], ['open proposals', num(cs.open_proposals)],
    ['certified height', a.certified_height == null ? 'none yet' : num(a.certified_height)],
    ['certified root', a.certified_root == null ? '-' : esc(a.certified_root)],
    ['heights awaiting votes', num(a.open_heights.length)],
    ['diverged members', num(a.diverged.length)],
    ['replica height here', y.replica_height == null ? 'not a member' : num(y.replica_height)],
    ['replica root here', y.replica_root == null ? '-' : esc(y.replica_root)]]) +
    '<p class="note">Sizes and hashes only: rows stay in member nodes\' replicas.</p>'));
}

async function taskPage(id) {
  const d = await maybe('/fl/task/' + encodeURIComponent(id));
  if (!d) return view(section('task-page', 'Learning task', '<p class="empty">no task ' + esc(id) +
    '</p>'));
  const ts = d.summary;
  view(section('task-page', 'Learning task ' + ts.id.slice(0, 16), kv('task', [
    ['id', esc(ts.id)], ['poster', link('account', ts.poster, esc(ts.poster))],
    ['rule', esc(ts.rule) + (ts.masked ? ' (masked)' : '')],
    ['rounds settled', num(ts.settled_rounds) + ' of ' + num(ts.rounds)],
    ['participants', num(ts.participants) + ' (a round needs ' + num(ts.min_participants) + ')'],
    ['escrow', num(ts.escrow)], ['price per round', num(ts.price_per_round)],
    ['model dimension', num(ts.dimension)],
    ['open round commits', num(ts.open_round_updates) + ' updates, ' +
      num(ts.open_round_aggregates) + ' aggregates']]) +
    '<h2>Participants</h2><table id="participants">' + head(['account', 'samples', 'paid']) +
    d.participants.map(p => row([link('account', p.account), num(p.samples), num(p.paid)]))
      .join('') +
    '</table><h2>Settled rounds</h2><table id="rounds">' + head(['round', 'aggregate',
      'contributors', 'accepted', 'paid', 'burned']) + d.settled.map(r => row([num(r.round),
      short(r.aggregate), num(r.contributors), num(r.accepted), num(r.paid), num(r.burned)]))
      .join('') +
    '</table>'));
}

// What each search match opens, and its words.
const KIND_ROUTES = { unit: ['unit', 'transaction'], checkpoint: ['checkpoint', 'checkpoint'],
  account: ['account', 'account'], token: ['token', 'token'], contract: ['contract', 'contract'],
  evm_tx: ['evmtx', 'Ethereum transaction'], consortium: ['consortium', 'consortium'],
  learning_task: ['task', 'learning task'] };

async function searchPage(term) {
  const r = await j('/search?q=' + encodeURIComponent(term));
  const items = r.matches.map(m => '<li class="match" data-kind="' + esc(m.kind) + '">' +
    esc(KIND_ROUTES[m.kind][1]) + ' ' + link(KIND_ROUTES[m.kind][0], m.id, esc(m.id)) + '</li>');
  // A well-formed id that names nothing may be an account not on the ledger yet (balance 0).
  const account = /^[0-9a-f]{64}$/.test(r.query) && !r.matches.length ?
    '<p class="note">As an account: ' + link('account', r.query, esc(r.query)) + '</p>' : '';
  view(section('search-page', 'Search', '<p>' + esc(r.matches.length) + ' match' +
    (r.matches.length === 1 ? '' : 'es') + ' for <code>' + esc(r.query) + '</code></p>' +
    '<ul id="matches">' + items.join('') + '</ul>' + account));
  if (r.matches.length === 1) {
    const m = r.matches[0];
    await route('#/' + KIND_ROUTES[m.kind][0] + '/' + m.id, true);
  }
}

// ---- the router ----

const PAGES = { unit: unitPage, checkpoint: checkpointPage, account: accountPage, token: tokenPage,
  contract: contractPage, evmtx: evmTxPage, consortium: consortiumPage, task: taskPage,
  search: searchPage };

async function route(hash, keepResults) {
  const parts = (hash || '').replace(/^#\/?/, '').split('/');
  const page = PAGES[parts[0]];
  const arg = decodeURIComponent(parts.slice(1).join('/'));
  try {
    if (page && arg) {
      const results = keepResults ? document.getElementById('search-page') : null;
      const before = results ? results.outerHTML : '';
      await page(arg.trim());
      if (before) document.getElementById('view').insertAdjacentHTML('afterbegin', before);
      const ready = await j('/ready');
      status('height ' + ready.height + ' (page read ' + new Date().toISOString() + ')');
    } else {
      await home();
    }
  } catch (e) {
    status('error: ' + e.message, 'error');
  }
}

async function home() {
  view(vein.config.panels.map(p => '<section class="panel" id="panel-' + esc(p) + '"></section>')
    .join(''));
  await refresh();
}

// One pass over the configured panels; skipped while one is still running or off the front page.
async function refresh() {
  if (vein.refreshing || !document.getElementById('view').querySelector('section[id^="panel-"]')) {
    return;
  }
  vein.refreshing = true;
  try {
    const s = await j('/status');
    for (const p of vein.config.panels) await PANELS[p](s);
    status('height ' + s.height + ', final ' + s.final_height + ' (updated ' +
      new Date().toISOString() + ')');
  } catch (e) {
    status('node unreachable: ' + e.message, 'error');
  } finally {
    vein.refreshing = false;
  }
}

async function start() {
  try {
    await configure();
  } catch (e) {
    return status('node unreachable: ' + e.message, 'error');
  }
  document.getElementById('search-form').addEventListener('submit', ev => {
    ev.preventDefault();
    const term = document.getElementById('search').value.trim();
    if (term) location.hash = '#/search/' + encodeURIComponent(term);
  });
  window.addEventListener('hashchange', () => route(location.hash));
  await route(location.hash);
  vein.timer = setInterval(refresh, vein.config.refresh_ms);
}

// The panels are defined by panels.js, loaded after this file.
window.addEventListener('DOMContentLoaded', start);

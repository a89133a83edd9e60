// The front page's panels, one function each, named as the operator's config names them. Each
// is handed the /status answer of the current refresh and fills its own <section>.
'use strict';

function panel(name, title, body) {
  fill('panel-' + name, '<h2>' + esc(title) + '</h2>' + body);
}

function faultsText(f) {
  const parts = [];
  if (f.blocked.length) parts.push('blocked ' + f.blocked.join(', '));
  if (f.delay_ms) parts.push('delay ' + f.delay_ms + ' ms');
  if (f.loss_per_mille) parts.push('loss ' + f.loss_per_mille + '‰');
  const links = Object.keys(f.links);
  if (links.length) parts.push(links.length + ' link fault(s)');
  return parts.length ? parts.join('; ') : 'none';
}

const PANELS = {
  async status(s) {
    const keys = ['chain_id', 'height', 'head', 'final_height', 'final_ledger_root', 'dag_units',
      'tips', 'peers_live', 'account', 'balance', 'supply', 'faults'];
    const shown = {
      head: link('checkpoint', s.head, esc(s.head)),
      account: link('account', s.account, esc(s.account)),
      peers_live: s.peers_live.length ? s.peers_live.map(esc).join(', ') : 'none',
      faults: esc(faultsText(s.faults)),
      final_ledger_root: s.final_ledger_root == null ? '-' : esc(s.final_ledger_root),
    };
    panel('status', 'Node', '<table class="kv" id="status">' + keys.map(k => '<tr><th>' +
      esc(k.replace(/_/g, ' ')) + '</th><td class="st-' + esc(k) + '">' +
      (k in shown ? shown[k] : esc(s[k])) + '</td></tr>').join('') + '</table>');
  },

  async forks(s) {
    const f = await j('/forks?limit=30');
    panel('forks', 'Checkpoint tree', drawForks(f));
  },

  async dag(s) {
    const d = await j('/dag?limit=60');
    panel('dag', 'DAG near the tips', drawDag(d) +
      '<table id="dag">' + head(['unit', 'from', 'nonce', 'parents', 'tip', 'status']) +
      d.units.slice(0, 20).map(x => row([link('unit', x.id), link('account', x.from), esc(x.nonce),
        x.parents.map(p => link('unit', p)).join(' '), x.tip ? 'tip' : '', esc(x.status)],
      x.status, x.id)).join('') + '</table>');
  },

  async checkpoints(s) {
    const c = await j('/checkpoints?limit=15');
    const title = 'Recent checkpoints (final up to ' + c.final_height + ' of ' + c.height + ')';
    panel('checkpoints', title, '<table id="cps">' + head(['height', 'id', 'author',
      'ledger root', 'parents', 'final']) + c.checkpoints.map(x => row([esc(x.height),
      link('checkpoint', x.id), link('account', x.author), short(x.ledger_root),
      esc(x.parents), esc(x.final)],
    x.final ? 'final' : 'applied', x.id)).join('') + '</table>');
  },

  async transactions(s) {
    const t = await j('/txs?limit=25');
    panel('transactions', 'Recent transactions', t.txs.length ? txTable('txs', t.txs) :
      '<table id="txs"></table><p class="empty">none seen yet</p>');
  },

  async accounts(s) {
    const a = await j('/accounts?limit=50');
    panel('accounts', 'Accounts (' + a.count + ')', '<table id="accounts">' +
      head(['account', 'balance', 'next nonce']) + a.accounts.map(x => row([
        '<span class="account">' + link('account', x.account, esc(x.account)) + '</span>',
        '<span class="balance">' + esc(x.balance) + '</span>', esc(x.next_nonce)], '',
      x.account)).join('') + '</table>');
  },

  async tokens(s) {
    const k = await j('/tokens?limit=50');
    panel('tokens', 'Tokens (' + k.total + ')', k.tokens.length ? '<table id="tokens">' +
      head(['token', 'name', 'supply', 'holders', 'minted', 'burned', 'mintable',
        'ERC-20 address']) + k.tokens.map(x => row([link('token', x.id, esc(x.symbol)),
        esc(x.name), num(x.total_supply), '<span class="holders">' + esc(x.holders) + '</span>',
        num(x.minted), num(x.burned), x.mintable ? 'yes' : 'fixed',
        link('contract', x.erc20_address, esc(x.erc20_address))], '', x.id)).join('') +
      '</table>' : '<p class="empty">no token issued yet</p>');
  },

  async contracts(s) {
    const r = await j('/evm/receipts?limit=20');
    panel('contracts', 'Contracts (' + r.contracts + ' deployed)', r.receipts.length ?
      receiptTable('contracts', r.receipts) : '<p class="empty">no Ethereum transaction ' +
      'executed yet</p>');
  },

  async consortia(s) {
    const k = await j('/consortia');
    let rows = '';
    for (const x of k.consortia.slice(0, 20)) {
      const y = await j('/consortium/' + x.id);
      const v = await j('/consortium/' + x.id + '/attestations');
      rows += row([link('consortium', x.id), esc(x.name), y.parties.map(short).join(' '),
        y.members.map(m => short(m.account)).join(' '),
        y.tables.map(t => esc(t.name) + ' (' + esc(t.columns.length) + ' columns)').join(', '),
        esc(x.quorum) + ' of ' + esc(x.parties), '<span class="actions">' + esc(x.actions) +
        '</span>', esc(x.key_epoch), '<span class="certified">' + (v.certified_height == null ?
        'none' : esc(v.certified_height)) + '</span>', esc(v.diverged.length),
        y.replica_height == null ? 'not a member' : esc(y.replica_height),
        short(y.replica_root)], '', x.id);
    }
    panel('consortia', 'Consortia (' + k.consortia.length + ')', '<p class="note">Sizes and ' +
      'hashes only: rows stay in member nodes\' replicas.</p><table id="consortia">' +
      head(['id', 'name', 'parties', 'members', 'tables', 'quorum', 'actions', 'key epoch',
        'certified height', 'diverged', 'replica height here', 'replica root here']) + rows +
      '</table>');
  },

  async learning(s) {
    const l = await j('/fl/tasks');
    panel('learning', 'Federated learning (' + l.tasks.length + ' tasks)', l.tasks.length ?
      '<table id="learning">' + head(['task', 'rule', 'round', 'participants', 'escrow',
        'price per round', 'open round commits']) + l.tasks.map(x => row([link('task', x.id),
        esc(x.rule) + (x.masked ? ' (masked)' : ''), esc(x.settled_rounds) + ' of ' +
        esc(x.rounds), esc(x.participants) + ' (needs ' + esc(x.min_participants) + ')',
        num(x.escrow), num(x.price_per_round), esc(x.open_round_updates)], '', x.id)).join('') +
      '</table><p class="note">Accuracy is measured by the participants off chain ' +
      '(docs/federated-learning.md); the chain holds terms, commits and payments.</p>' :
      '<p class="empty">no learning task posted yet</p>');
  },
};

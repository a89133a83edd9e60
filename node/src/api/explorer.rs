//! The explorer: one self-contained HTML page served at `GET /`. It reads the JSON routes the
//! way any client does, so the keys it reads are part of the API's contract: the test below
//! holds them against the [`crate::api_types`] the handlers serialize.

use axum::response::Html;

pub(super) async fn explorer() -> Html<&'static str> {
    Html(EXPLORER_HTML)
}

/// A single self-contained page: it polls the JSON routes every two seconds and renders the
/// node's status, recent checkpoints, the DAG near its tips, recent transactions with their
/// status, and the ledger's accounts. Every value from the node is escaped before rendering.
const EXPLORER_HTML: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>vein node</title>
<style>body{font:14px monospace;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:2px 8px}h2{margin-top:1.5em}
.pending{color:#a60}.applied{color:#06a}.final{color:#080}.ignored{color:#a00}</style></head>
<body><h1>vein node</h1><p id="updated">loading…</p><table id="status"></table>
<h2>Transaction</h2><input id="txid" size="70" placeholder="transaction id (hex)">
<button onclick="lookup()">look up</button><pre id="tx"></pre>
<h2>Recent checkpoints</h2><table id="cps"></table>
<h2>Recent transactions</h2><table id="txs"></table>
<h2>DAG near the tips</h2><p id="dag-summary"></p><table id="dag"></table>
<h2>Accounts</h2><p id="accounts-summary"></p><table id="accounts"></table>
<script>
async function j(p){const r=await fetch(p);return r.json()}
function esc(s){return String(s).replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]))}
function short(s){return s==null?'-':esc(String(s).slice(0,16))}
function row(cells,cls,id){return '<tr'+(cls?' class="'+esc(cls)+'"':'')+(id?' data-id="'+esc(id)+'"':'')+'>'+
 cells.map(c=>'<td>'+c+'</td>').join('')+'</tr>'}
function head(names){return '<tr>'+names.map(n=>'<th>'+n+'</th>').join('')+'</tr>'}
function fill(id,html){document.getElementById(id).innerHTML=html}
async function refresh(){
 try{
  const s=await j('/status');
  const keys=['chain_id','height','head','final_height','final_ledger_root','dag_units','tips',
   'peers_live','account','balance','supply','faults'];
  fill('status',keys.map(k=>'<tr><th>'+esc(k)+'</th><td class="st-'+esc(k)+'">'+
   esc(JSON.stringify(s[k]))+'</td></tr>').join(''));
  const c=await j('/checkpoints?limit=15');
  fill('cps',head(['height','id','author','ledger root','parents','final'])+c.checkpoints.map(x=>
   row([x.height,short(x.id),short(x.author),short(x.ledger_root),x.parents,x.final],
   x.final?'final':'applied',x.id)).join(''));
  const t=await j('/txs?limit=25');
  fill('txs',head(['id','from','nonce','to','amount','fee','status','height'])+t.txs.map(x=>
   row([short(x.id),short(x.from),x.nonce,short(x.to),x.amount,x.fee,
   '<span class="status">'+esc(x.status)+'</span>',x.confirmed_height==null?'-':x.confirmed_height],
   x.status,x.id)).join(''));
  const d=await j('/dag?limit=30');
  fill('dag-summary',esc(d.tips)+' tips; the '+esc(d.units.length)+' units nearest them:');
  fill('dag',head(['unit','from','nonce','parents','tip','status'])+d.units.map(x=>
   row([short(x.id),short(x.from),x.nonce,x.parents.map(short).join(' '),x.tip?'tip':'',
   esc(x.status)],x.status,x.id)).join(''));
  const a=await j('/accounts?limit=50');
  fill('accounts-summary',esc(a.count)+' accounts');
  fill('accounts',head(['account','balance','next nonce'])+a.accounts.map(x=>
   row(['<span class="account">'+esc(x.account)+'</span>','<span class="balance">'+esc(x.balance)+
   '</span>',x.next_nonce],'',x.account)).join(''));
  document.getElementById('updated').textContent='height '+s.height+', final '+s.final_height+
   ' (updated '+new Date().toISOString()+')';
 }catch(e){document.getElementById('updated').textContent='node unreachable: '+e}
}
async function lookup(){const id=document.getElementById('txid').value.trim();
 document.getElementById('tx').textContent=JSON.stringify(await j('/unit/'+id),null,1)}
refresh();setInterval(refresh,2000);
</script></body></html>
"#;

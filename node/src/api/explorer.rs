//! The explorer: one self-contained HTML page served at `GET /`. It reads the JSON routes the
//! way any client does, so the keys it reads are part of the API's contract: the test below
//! holds them against the [`crate::api_types`] the handlers serialize.

use axum::response::Html;

pub(super) async fn explorer() -> Html<&'static str> {
    Html(EXPLORER_HTML)
}

/// A single self-contained page: it polls the JSON routes every two seconds and renders the
/// node's status, recent checkpoints, the DAG near its tips, recent transactions with their
/// status, the ledger's accounts, and the consortia with their parties, member nodes, tables,
/// action counts, key epochs and (on a member) this node's replica height and root: sizes and
/// hashes only, never rows, since the page is public. Every value from the node is escaped
/// before rendering.
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
<h2>Consortia</h2><p id="consortia-summary"></p><table id="consortia"></table>
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
  const k=await j('/consortia');
  fill('consortia-summary',esc(k.consortia.length)+' consortia (sizes and hashes only: rows stay '+
   'in member nodes\' replicas)');
  let consortia='';
  for(const x of k.consortia.slice(0,20)){
   const y=await j('/consortium/'+x.id);
   consortia+=row([short(x.id),esc(x.name),y.parties.map(short).join(' '),
    y.members.map(m=>short(m.account)).join(' '),
    y.tables.map(t=>esc(t.name)+' ('+esc(t.columns.length)+' columns)').join(', '),
    esc(x.quorum)+' of '+esc(x.parties),'<span class="actions">'+esc(x.actions)+'</span>',
    esc(x.key_epoch),short(x.action_log_head),esc(x.open_proposals),
    y.replica_height==null?'not a member':esc(y.replica_height),short(y.replica_root)],'',x.id);
  }
  fill('consortia',head(['id','name','parties','members','tables','quorum','actions','key epoch',
   'action log head','open proposals','replica height here','replica root here'])+consortia);
  document.getElementById('updated').textContent='height '+s.height+', final '+s.final_height+
   ' (updated '+new Date().toISOString()+')';
 }catch(e){document.getElementById('updated').textContent='node unreachable: '+e}
}
async function lookup(){const id=document.getElementById('txid').value.trim();
 document.getElementById('tx').textContent=JSON.stringify(await j('/unit/'+id),null,1)}
refresh();setInterval(refresh,2000);
</script></body></html>
"#;

#[cfg(test)]
mod tests {
    use super::EXPLORER_HTML;
    use crate::api_types::samples;
    use serde::Serialize;
    use std::collections::BTreeSet;

    /// The fields the page reads as `variable.field` in `text` (`x.parents.map` reads `parents`).
    fn reads(text: &str, variable: &str) -> BTreeSet<String> {
        let pattern = format!("{variable}.");
        let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
        text.match_indices(&pattern)
            .filter(|(at, _)| !text[..*at].ends_with(is_name))
            .map(|(at, _)| text[at + pattern.len()..].chars().take_while(|c| is_name(*c)).collect())
            .collect()
    }

    fn keys(value: &impl Serialize) -> BTreeSet<String> {
        let json = serde_json::to_value(value).unwrap();
        json.as_object().unwrap().keys().cloned().collect()
    }

    /// The page's code from its fetch of `route` to the next fetch.
    fn section(route: &str) -> &'static str {
        let start = EXPLORER_HTML.find(&format!("await j('{route}")).unwrap();
        let rest = &EXPLORER_HTML[start + 1..];
        &rest[..rest.find("await j(").unwrap_or(rest.len())]
    }

    fn assert_reads_exist(read: &BTreeSet<String>, served: &BTreeSet<String>, what: &str) {
        assert!(!read.is_empty(), "found no reads of {what}: the test lost track of the page");
        let missing: Vec<_> = read.difference(served).collect();
        assert!(missing.is_empty(), "the page reads {missing:?} of {what}, served: {served:?}");
    }

    #[test]
    fn every_key_the_page_reads_is_a_field_the_api_serializes() {
        // `/status`: the listed keys, and `s.height`/`s.final_height` in the status line.
        let status = section("/status");
        let listed = status.split("const keys=[").nth(1).unwrap().split(']').next().unwrap();
        let mut read: BTreeSet<String> =
            listed.split(',').map(|key| key.trim().trim_matches('\'').to_string()).collect();
        read.extend(reads(EXPLORER_HTML, "s"));
        assert!(read.contains("faults") && read.contains("final_height"), "{read:?}");
        assert_reads_exist(&read, &keys(&samples::status()), "/status");

        let checkpoints = samples::checkpoints();
        let code = section("/checkpoints");
        assert_reads_exist(&reads(code, "c"), &keys(&checkpoints), "/checkpoints");
        let row = &checkpoints.checkpoints[0];
        assert_reads_exist(&reads(code, "x"), &keys(row), "a checkpoint");

        let txs = samples::recent_txs();
        let code = section("/txs");
        assert_reads_exist(&reads(code, "t"), &keys(&txs), "/txs");
        assert_reads_exist(&reads(code, "x"), &keys(&txs.txs[0]), "a transaction");

        let dag = samples::dag();
        let code = section("/dag");
        assert_reads_exist(&reads(code, "d"), &keys(&dag), "/dag");
        assert_reads_exist(&reads(code, "x"), &keys(&dag.units[0]), "a DAG unit");

        let accounts = samples::accounts();
        let code = section("/accounts");
        assert_reads_exist(&reads(code, "a"), &keys(&accounts), "/accounts");
        assert_reads_exist(&reads(code, "x"), &keys(&accounts.accounts[0]), "an account");

        let list = samples::consortia();
        assert_reads_exist(&reads(section("/consortia"), "k"), &keys(&list), "/consortia");
        let detail = samples::consortium_detail();
        let code = section("/consortium/");
        assert_reads_exist(&reads(code, "x"), &keys(&list.consortia[0]), "a consortium");
        assert_reads_exist(&reads(code, "y"), &keys(&detail), "/consortium/{id}");
        assert_reads_exist(&reads(code, "m"), &keys(&detail.members[0]), "a member node");
        assert_reads_exist(&reads(code, "t"), &keys(&detail.tables[0]), "a table");
    }
}

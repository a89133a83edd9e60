// The two drawings, as SVG strings built from JSON (escaped like every other value):
// - the DAG near the tips (GET /dag): units as dots, one edge per parent held in the view,
//   coloured by status; columns by distance from the tips (the longest path), tips on the right;
// - the checkpoint tree (GET /forks): the active chain on the first lane, each side branch on a
//   lane of its own below, columns by height, the head on the right.
'use strict';

const GRAPH = { column: 34, lane: 26, margin: 18, radius: 7, lanesMax: 14 };

function svgOpen(id, width, height) {
  return '<svg id="' + esc(id) + '" width="' + width +
    '" height="' + height + '" viewBox="0 0 ' + width + ' ' + height + '" role="img">';
}

function edge(a, b) {
  // A gentle curve, so parallel edges between neighbouring columns stay apart.
  const mid = (a.x + b.x) / 2;
  return '<path class="edge" d="M' + a.x + ',' + a.y + ' C' + mid + ',' + a.y + ' ' + mid + ',' +
    b.y + ' ' + b.x + ',' + b.y + '"/>';
}

// Column of each unit: 0 for a tip, else one more than its farthest child in the view.
function dagDepths(units) {
  const depth = new Map(units.map(u => [u.id, 0]));
  for (let pass = 0; pass < units.length; pass++) {
    let changed = false;
    for (const u of units) {
      for (const p of u.parents) {
        if (depth.has(p) && depth.get(p) < depth.get(u.id) + 1) {
          depth.set(p, depth.get(u.id) + 1);
          changed = true;
        }
      }
    }
    if (!changed) break;
  }
  return depth;
}

function drawDag(d) {
  if (!d.units.length) return '<p class="empty">no units yet</p>';
  const depth = dagDepths(d.units);
  const deepest = Math.max(...depth.values());
  const lanes = new Map();
  const at = new Map();
  for (const u of d.units) {
    const column = depth.get(u.id);
    const lane = lanes.get(column) || 0;
    lanes.set(column, lane + 1);
    at.set(u.id, { x: GRAPH.margin + (deepest - column) * GRAPH.column,
      y: GRAPH.margin + Math.min(lane, GRAPH.lanesMax) * GRAPH.lane });
  }
  const width = 2 * GRAPH.margin + deepest * GRAPH.column;
  const height = 2 * GRAPH.margin + Math.min(Math.max(...lanes.values()) - 1, GRAPH.lanesMax) *
    GRAPH.lane;
  let edges = '';
  let dots = '';
  for (const u of d.units) {
    for (const p of u.parents) if (at.has(p)) edges += edge(at.get(u.id), at.get(p));
    const c = at.get(u.id);
    dots += '<a href="#/unit/' + esc(u.id) + '"><circle class="unit ' + esc(u.status) +
      (u.tip ? ' tip' : '') + '" data-id="' + esc(u.id) + '" cx="' + c.x + '" cy="' + c.y +
      '" r="' + GRAPH.radius + '"><title>' + esc(u.id) + ' ' + esc(u.status) +
      (u.tip ? ' (tip)' : '') + '</title></circle></a>';
  }
  return svgOpen('dag-svg', width, height) + edges + dots + '</svg>' + legend([
    ['pending', 'pending'], ['applied', 'applied'], ['final', 'final'], ['ignored', 'ignored']]) +
    '<p class="note">' + esc(d.tips) + ' tips; the ' + esc(d.units.length) +
    ' units nearest them, oldest on the left; a ringed dot is a tip.</p>';
}

function legend(items) {
  return '<p class="legend">' + items.map(i => '<span><i style="background:var(--' + esc(i[0]) +
    ')"></i>' + esc(i[1]) + '</span>').join('') + '</p>';
}

// Lane of each checkpoint: 0 for the active chain; a side checkpoint continues the lane of its
// predecessor when that one is a side checkpoint too, else it opens the next lane.
function forkLanes(checkpoints) {
  const byId = new Map(checkpoints.map(c => [c.id, c]));
  const lane = new Map();
  let lanes = 1;
  const ascending = checkpoints.slice().sort((a, b) => a.height - b.height ||
    (a.id < b.id ? -1 : 1));
  const taken = new Set();
  for (const c of ascending) {
    if (c.active) { lane.set(c.id, 0); continue; }
    const prev = byId.get(c.prev);
    const key = prev && !prev.active ? lane.get(prev.id) + ':' + c.height : null;
    if (key && !taken.has(key)) {
      lane.set(c.id, lane.get(prev.id));
      taken.add(key);
    } else {
      lane.set(c.id, Math.min(lanes, GRAPH.lanesMax));
      lanes += 1;
    }
  }
  return lane;
}

function drawForks(f) {
  if (!f.checkpoints.length) return '<p class="empty">no checkpoints held</p>';
  const lane = forkLanes(f.checkpoints);
  const lowest = Math.min(...f.checkpoints.map(c => c.height));
  const at = new Map();
  for (const c of f.checkpoints) {
    at.set(c.id, { x: GRAPH.margin + 24 + (c.height - lowest) * GRAPH.column,
      y: GRAPH.margin + lane.get(c.id) * GRAPH.lane });
  }
  const width = 2 * GRAPH.margin + 24 + (f.height - lowest) * GRAPH.column;
  const height = 2 * GRAPH.margin + 14 + Math.max(...lane.values()) * GRAPH.lane;
  let edges = '';
  let dots = '';
  let labels = '';
  for (const c of f.checkpoints) {
    if (at.has(c.prev)) edges += edge(at.get(c.id), at.get(c.prev));
    const p = at.get(c.id);
    const cls = 'cp ' + (c.active ? 'active' : 'side') + (c.final ? ' final' : '') +
      (c.id === f.head ? ' head' : '');
    dots += '<a href="#/checkpoint/' + esc(c.id) + '"><circle class="' + cls + '" data-id="' +
      esc(c.id) + '" cx="' + p.x + '" cy="' + p.y + '" r="' + GRAPH.radius + '"><title>height ' +
      esc(c.height) + ' ' + esc(c.id) + (c.active ? '' : ' (side branch)') +
      (c.final ? ' final' : '') + '</title></circle></a>';
    if (c.active && (c.height % 5 === 0 || c.id === f.head)) {
      labels += '<text x="' + (p.x - 8) + '" y="' + (height - 6) + '">' + esc(c.height) + '</text>';
    }
  }
  const side = f.checkpoints.filter(c => !c.active).length;
  return svgOpen('forks-svg', width, height) + edges + dots + labels + '</svg>' + legend([
    ['final', 'final'], ['applied', 'active, not final'], ['side', 'side branch']]) +
    '<p class="note">heights ' + esc(lowest) + ' to ' + esc(f.height) + ', final up to ' +
    esc(f.final_height) + '; ' + esc(side) + ' side-branch checkpoint' + (side === 1 ? '' : 's') +
    ' seen lately; the ringed dot is the head.</p>';
}

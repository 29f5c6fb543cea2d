// The teacher's page, for the projector: the class code, the join link and its QR code,
// the world with this round's ties, who has decided, the pace controls, the outcomes and
// the rounds; at the end the debrief, the downloads and a replay round by round.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  const $ = id => document.getElementById(id);
  const code = CT.codeFromUrl();
  const key = sessionStorage.getItem(CT.teacherKey(code));
  let view = null, replayRound = null, replayData = null;

  $('code').textContent = code;
  if (!code || !key) {
    $('fatal').replaceChildren('This tab does not hold the key of class ' + (code || '(none)') +
      ': only the tab that started a class steers it. ',
      CT.el('a', {href: '/class', text: 'Start a class'}));
    return;
  }

  fetch(`/class/api/link/${encodeURIComponent(code)}`).then(r => r.json()).then(link => {
    $('link').textContent = link.url.replace(/^http:\/\//, '');
    $('link').href = link.url;
    $('hint').textContent = link.hint;
  });
  $('qr').src = `/class/qr/${encodeURIComponent(code)}.svg`;

  const control = async (op, value) => {
    try { await CT.post('control', {code, key, op, value}); $('fatal').textContent = ''; }
    catch (err) { $('fatal').textContent = err.message + '.'; }
  };
  $('start').addEventListener('click', () => control('start'));
  $('next').addEventListener('click', () => control('next'));
  $('pause').addEventListener('click', () => control(view && view.paused ? 'resume' : 'pause'));
  $('reveal').addEventListener('click', () => control('reveal', !(view && view.reveal)));
  $('others').addEventListener('change', () => control('others', $('others').value));
  $('end').addEventListener('click', () => {
    if (confirm('End the class now? The debrief follows.')) control('end');
  });

  // ---------------------------------------------------------------- the network

  const W = 1000, H = 700;
  const KINDS = {
    shared: {colour: '#0072B2', dash: null, label: 'passed pieces'},
    leak: {colour: '#D55E00', dash: '12 7', label: 'a piece leaked'},
    withheld: {colour: '#CC79A7', dash: '2 8', label: 'held back (an inquiry showed it)'},
  };

  function place(world) {
    const nodes = world.nodes.map(n => ({...n, X: 70 + n.x * 860, Y: 40 + n.y * 600,
                                         R: 14 + n.r * 420}));
    const hubs = world.hubs.map((h, k) => {
      const members = nodes.filter(n => n.hubs.includes(k));
      const cx = members.reduce((s, n) => s + n.X, 0) / Math.max(members.length, 1);
      const cy = members.reduce((s, n) => s + n.Y, 0) / Math.max(members.length, 1);
      return {name: h.name.replace(/_/g, ' '), X: cx, Y: cy, R: 16};
    });
    // a hub must not sit on a nation: push it away from the nearest one
    for (const h of hubs) for (let step = 0; step < 40; step++) {
      const near = nodes.find(n => Math.hypot(n.X - h.X, n.Y - h.Y) < n.R + 70);
      if (!near) break;
      const dx = h.X - near.X || 1, dy = h.Y - near.Y || 1, d = Math.hypot(dx, dy);
      h.X = Math.min(W - 60, Math.max(60, h.X + 12 * dx / d));
      h.Y = Math.min(H - 40, Math.max(30, h.Y + 12 * dy / d));
    }
    return {nodes, hubs};
  }

  function defs() {
    return CT.svg('defs', {}, Object.entries(KINDS).map(([kind, k]) =>
      CT.svg('marker', {id: `arrow-${kind}`, viewBox: '0 0 10 10', refX: 9, refY: 5,
                        markerWidth: 5, markerHeight: 5, orient: 'auto-start-reverse'},
             [CT.svg('path', {d: 'M0,0 L10,5 L0,10 z', fill: k.colour})])));
  }

  function drawNetwork(world, ties, attacked, stopped, nations, phase) {
    const {nodes, hubs} = place(world);
    const n = nodes.length;
    const at = i => i < n ? nodes[i] : hubs[i - n];
    const svg = CT.svg('svg', {viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'net-desc'});
    const counts = {shared: 0, leak: 0, withheld: 0};
    for (const t of ties) counts[t[2]] += t[3];
    const names = list => list.map(i => nodes[i].name).join(', ');
    svg.append(CT.svg('title', {id: 'net-desc', text:
      `The world: ${n} nations. This round: ${counts.shared} pieces passed, ${counts.leak} leaks, ` +
      `${counts.withheld} held-back pieces revealed` +
      (attacked.length ? `; attacks struck ${names(attacked)}` : '') +
      (stopped.length ? `; plots stopped against ${names(stopped)}` : '') + '.'}));
    svg.append(defs());
    const lines = CT.svg('g', {'aria-hidden': 'true'});
    for (const [from, to, kind, count] of ties) {
      const a = at(from), b = at(to), k = KINDS[kind];
      if (!a || !b) continue;
      const dx = b.X - a.X, dy = b.Y - a.Y, d = Math.hypot(dx, dy) || 1;
      const ux = dx / d, uy = dy / d;
      const bend = kind === 'shared' ? 0.12 : kind === 'leak' ? -0.12 : 0.22;
      const mx = (a.X + b.X) / 2 - uy * d * bend, my = (a.Y + b.Y) / 2 + ux * d * bend;
      const sx = a.X + ux * (a.R + 4), sy = a.Y + uy * (a.R + 4);
      const ex = b.X - ux * (b.R + 8), ey = b.Y - uy * (b.R + 8);
      lines.append(CT.svg('path', {d: `M${sx},${sy} Q${mx},${my} ${ex},${ey}`, fill: 'none',
        stroke: k.colour, 'stroke-width': Math.min(2.5 + 1.5 * count, 9),
        'stroke-dasharray': k.dash, 'stroke-linecap': 'round',
        'marker-end': `url(#arrow-${kind})`, class: `tie tie-${kind}`}));
    }
    svg.append(lines);
    const marks = CT.svg('g', {'aria-hidden': 'true'});
    for (const h of hubs) {
      marks.append(CT.svg('rect', {x: h.X - 16, y: h.Y - 16, width: 32, height: 32, rx: 5,
        fill: '#56B4E9', stroke: '#1b1b1b', 'stroke-width': 2}));
      marks.append(CT.svg('text', {x: h.X, y: h.Y + 40, 'text-anchor': 'middle', text: h.name,
        style: 'font-size:18px;font-style:italic'}));
    }
    nodes.forEach((node, i) => {
      const info = nations[i] || {};
      if (attacked.includes(i)) {
        const s = node.R + 16;
        marks.append(CT.svg('path', {d: `M${node.X},${node.Y - s} L${node.X + s},${node.Y} ` +
          `L${node.X},${node.Y + s} L${node.X - s},${node.Y} z`, fill: '#D55E00',
          'fill-opacity': 0.25, stroke: '#D55E00', 'stroke-width': 5, class: 'attacked'}));
      }
      if (stopped.includes(i)) {
        const s = node.R + 9;
        marks.append(CT.svg('rect', {x: node.X - s, y: node.Y - s, width: 2 * s, height: 2 * s,
          fill: 'none', stroke: '#009E73', 'stroke-width': 5, class: 'stopped'}));
      }
      marks.append(CT.svg('circle', {cx: node.X, cy: node.Y, r: node.R,
        fill: info.played ? '#ffffff' : '#e3e3e3', stroke: info.played ? '#1b1b1b' : '#595959',
        'stroke-width': info.played ? 3 : 2.5, 'stroke-dasharray': info.played ? null : '5 4'}));
      if (phase === 'playing' && info.played && info.ready) {
        const bx = node.X + node.R * 0.8, by = node.Y - node.R * 0.8;
        marks.append(CT.svg('circle', {cx: bx, cy: by, r: 11, fill: '#006b4e'}));
        marks.append(CT.svg('path', {d: `M${bx - 5},${by} l4,4 l7,-8`, fill: 'none',
          stroke: '#fff', 'stroke-width': 3}));
      }
      const marked = attacked.includes(i) || stopped.includes(i);
      marks.append(CT.svg('text', {x: node.X, y: node.Y + node.R + (marked ? 34 : 24), 'text-anchor': 'middle',
        text: node.name}));
    });
    svg.append(marks);
    $('network').replaceChildren(svg);
  }

  function legend() {
    const sample = kind => CT.svg('svg', {width: 40, height: 14, 'aria-hidden': 'true'}, [
      CT.svg('line', {x1: 2, y1: 7, x2: 38, y2: 7, stroke: KINDS[kind].colour, 'stroke-width': 4,
                      'stroke-dasharray': KINDS[kind].dash, 'stroke-linecap': 'round'})]);
    const shape = (el) => CT.svg('svg', {width: 22, height: 22, viewBox: '0 0 22 22', 'aria-hidden': 'true'}, [el]);
    const items = [
      ...Object.keys(KINDS).map(k => [sample(k), KINDS[k].label]),
      [shape(CT.svg('path', {d: 'M11,1 L21,11 L11,21 L1,11 z', fill: '#D55E00', 'fill-opacity': .25, stroke: '#D55E00', 'stroke-width': 2.5})), 'struck by an attack'],
      [shape(CT.svg('rect', {x: 2, y: 2, width: 18, height: 18, fill: 'none', stroke: '#009E73', 'stroke-width': 3})), 'a plot against it stopped'],
      [shape(CT.svg('circle', {cx: 11, cy: 11, r: 8, fill: '#e3e3e3', stroke: '#595959', 'stroke-width': 2, 'stroke-dasharray': '3 2'})), 'played by a strategy'],
      [shape(CT.svg('rect', {x: 3, y: 3, width: 16, height: 16, rx: 3, fill: '#56B4E9', stroke: '#1b1b1b', 'stroke-width': 1.5})), 'hub'],
    ];
    $('legend').replaceChildren(...items.map(([icon, text]) => CT.el('span', {}, [icon, document.createTextNode(' ' + text)])));
  }
  legend();

  // ---------------------------------------------------------------- the rest of the view

  const fmt = v => v === null || v === undefined ? '–' : typeof v !== 'number' ? String(v)
    : Number.isInteger(v) ? String(v) : v.toFixed(2);

  function table(id, head, rows) {
    const t = $(id) || CT.el('table', {id});
    t.replaceChildren(
      CT.el('thead', {}, [CT.el('tr', {}, head.map(h => CT.el('th', {scope: 'col', text: h})))]),
      CT.el('tbody', {}, rows.map(r => CT.el('tr', {}, r.map((c, j) =>
        j === 0 ? CT.el('th', {scope: 'row', text: c}) : CT.el('td', {text: fmt(c)}))))));
    return t;
  }

  function drawNations() {
    const played = view.nations.filter(x => x.played);
    const ready = played.filter(x => x.ready).length;
    $('decided-count').textContent = view.phase === 'playing' ? `(${ready} of ${played.length})` : '';
    const label = s => (view.strategies_labels || {})[s] || s;
    $('nations').replaceChildren(...view.nations.map(x => {
      const state = !x.played ? 'strategy' : x.ready ? 'ready' : 'waiting';
      const tick = !x.played ? '⚙' : x.ready ? '✓' : '…';
      const who = !x.played ? `plays ${label(x.strategy)}`
        : x.names.length ? x.names.join(', ') : `${x.students} student${x.students === 1 ? '' : 's'}`;
      const words = !x.played ? '' : x.ready ? ' (decided)' : ' (not yet)';
      return CT.el('li', {class: state}, [
        CT.el('span', {class: 'tick', 'aria-hidden': 'true', text: tick}),
        CT.el('span', {}, [CT.el('b', {text: x.name}), CT.el('span', {class: 'sr-only', text: words}),
                           document.createTextNode(' '), CT.el('span', {class: 'names', text: who})])]);
    }));
  }

  async function showReplay(k) {
    replayRound = k;
    try {
      replayData = await CT.post('round', {code, key, round: k});
    } catch (err) { $('fatal').textContent = err.message + '.'; return; }
    drawNetwork(view.world, replayData.ties, replayData.attacked, replayData.stopped, view.nations, view.phase);
    $('round-title').textContent = `Round ${k} (weeks ${replayData.summary.weeks[0]}–${replayData.summary.weeks[1]})`;
    $('lines').replaceChildren(...(replayData.lines.length ? replayData.lines : ['Nothing of note ended this round.'])
      .map(line => CT.el('li', {text: line})));
    const range = $('replay-range');
    if (range) { range.value = k; $('replay-at').textContent = `round ${k} of ${view.round}`; }
  }

  function drawDebrief() {
    const box = $('debrief');
    if (view.phase !== 'finished') { box.replaceChildren(); $('replay-box').hidden = true; return; }
    const d = view.debrief;
    const parts = [CT.el('h2', {text: 'Debrief'})];
    if (!d) parts.push(CT.el('p', {text: 'Working out how the same world goes with other strategies…'}));
    else {
      parts.push(CT.el('p', {text: `The same world over the same ${d.weeks} weeks, from the same seed:`}));
      parts.push(table('debrief-table', ['outcome', ...d.columns], d.rows));
      parts.push(CT.el('h3', {text: 'Other games of this world (seeds 1 to 20): disruption rate'}));
      parts.push(table('other-games', ['played by', 'games', 'mean', '9 in 10 from', 'to'],
        d.other_games.map(g => [g.label, g.games, g.mean, g.low, g.high])));
      parts.push(CT.el('h3', {text: "The strategy each nation's decisions came closest to"}));
      parts.push(CT.el('ul', {id: 'inferred'}, d.inferred.map(x => CT.el('li', {text: `${x.nation}: ${x.strategy}`}))));
    }
    const csv = CT.el('button', {type: 'button', id: 'csv', text: 'Download the decisions (CSV)',
      on: {click: () => CT.download('csv', {code, key}, `class-${code}-decisions.csv`)}});
    const rec = CT.el('button', {type: 'button', id: 'record', text: 'Download the record (to replay)',
      on: {click: () => CT.download('record', {code, key}, `class-${code}-record.json`)}});
    parts.push(CT.el('div', {class: 'row'}, [csv, rec,
      CT.el('a', {href: '/class', class: 'button', text: 'Replay a record, or a new class'})]));
    $('replay-box').hidden = !(view.round > 0);
    if (view.round > 0) {
      const range = CT.el('input', {type: 'range', id: 'replay-range', min: 1, max: view.round,
        value: replayRound || view.round, 'aria-label': 'round to show'});
      range.addEventListener('input', () => showReplay(+range.value));
      $('replay-controls').replaceChildren(
        CT.el('button', {type: 'button', text: '◀ Earlier', id: 'replay-prev',
          on: {click: () => showReplay(Math.max(1, (replayRound || view.round) - 1))}}),
        range,
        CT.el('button', {type: 'button', text: 'Later ▶', id: 'replay-next',
          on: {click: () => showReplay(Math.min(view.round, (replayRound || view.round) + 1))}}),
        CT.el('span', {id: 'replay-at', text: `round ${replayRound || view.round} of ${view.round}`}));
    }
    box.replaceChildren(...parts);
  }

  function draw() {
    document.title = `ctsim class ${code}: ${view.title}`;
    $('title').textContent = view.title;
    $('status').replaceChildren(CT.status(view).replace(' · paused', ''),
      ...(view.paused ? [' · ', CT.el('span', {class: 'paused-flag', text: 'paused'})] : []));
    $('count').textContent = `${view.students} student${view.students === 1 ? '' : 's'}`;
    $('start').hidden = view.phase !== 'lobby';
    $('next').disabled = view.phase === 'finished';
    $('next').textContent = view.phase === 'finished' ? 'Finished'
      : `Next round (${Math.min(view.round + 1, view.rounds)} of ${view.rounds})`;
    $('pause').disabled = view.phase !== 'playing';
    $('pause').textContent = view.paused ? 'Resume' : 'Pause';
    $('reveal').setAttribute('aria-checked', String(view.reveal));
    $('end').disabled = view.phase === 'finished';
    if (!$('others').options.length)
      for (const s of view.strategies) $('others').append(CT.el('option', {value: s, text: s}));
    $('others').value = view.others;
    drawNations();
    $('decided').hidden = view.phase === 'finished';
    table('outcomes', ['outcome', 'so far'], view.outcomes);
    table('history',
      ['round', 'weeks', 'plots stopped', 'attacks', 'pieces passed', 'leaks', 'held back, revealed'],
      view.history.map(h => [String(h.round), `${h.weeks[0]}–${h.weeks[1]}`, h.stopped, h.struck,
                             h.shared, h.leaks, h.withheld]));
    drawDebrief();
    if (view.phase === 'finished' && replayRound) { showReplay(replayRound); return; }
    $('round-title').textContent = view.round ? `Round ${view.round}` : 'This round';
    const lines = view.round ? (view.lines.length ? view.lines : ['Nothing of note ended this round.'])
      : [view.phase === 'lobby' ? 'Students join with the code. Press Start when the class is in.' : 'Round 1 is under way.'];
    $('lines').replaceChildren(...lines.map(line => CT.el('li', {text: line})));
    drawNetwork(view.world, view.ties, view.attacked, view.stopped, view.nations, view.phase);
  }

  fetch('/class/api/worlds').then(r => r.json()).then(info => {
    const labels = Object.fromEntries(info.strategies.map(s => [s.name, s.label]));
    for (const option of $('others').options) option.textContent = labels[option.value] || option.value;
    window.CT_LABELS = labels;
    if (view) { view.strategies_labels = labels; drawNations(); }
  });

  CT.poll('teacher', () => ({code, key}), data => {
    view = data;
    view.strategies_labels = window.CT_LABELS || {};
    if (!$('others').options.length && window.CT_LABELS)
      for (const s of view.strategies) $('others').append(CT.el('option', {value: s, text: window.CT_LABELS[s] || s}));
    draw();
  }, err => {
    $('fatal').textContent = err.message.charAt(0).toUpperCase() + err.message.slice(1) + '.';
  }, up => { if (!up) $('fatal').textContent = 'Reconnecting to the class server…'; else if ($('fatal').textContent.startsWith('Reconnecting')) $('fatal').textContent = ''; });
});

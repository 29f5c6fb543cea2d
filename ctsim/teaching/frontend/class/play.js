// A student's page: their nation, a share / hold back switch per partner and a post /
// don't post switch per hub, the plots they hold pieces of, and after each round what
// happened to them. The view comes from a long poll; decisions are posted at once.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  const $ = id => document.getElementById(id);
  const code = CT.codeFromUrl();
  const token = localStorage.getItem(CT.seatKey(code));
  if (!code || !token) { location.replace(`/class${code ? '?code=' + encodeURIComponent(code) : ''}`); return; }
  let view = null, lastReport = null;
  const busy = new Set();

  const canDecide = () => view && view.phase === 'playing' && !view.paused;

  const mark = {shared: '✓', defected: '✕', none: '–'};

  function toggle(p, key, on, label, yes, no) {
    // a switch: key names it (the partner's id, or 'x' + id for handing over plotters)
    return CT.el('button', {
      type: 'button', role: 'switch', class: 'switch', 'aria-checked': String(on),
      'data-partner': key, disabled: !canDecide() || busy.has(key),
      on: {click: () => decide(p, on ? no : yes, key)}},
      [CT.el('span', {class: 'knob', 'aria-hidden': 'true', text: on ? '✓' : '✕'}),
       CT.el('span', {class: 'label', text: label})]);
  }

  function partnerRow(p) {
    const hub = p.kind === 'hub';
    const on = p.decision === 'share';
    const label = hub ? `Post to ${p.name}` : `Share with ${p.name}`;
    const state = CT.el('span', {class: 'muted', text: on ? (hub ? 'posting' : 'sharing') : (hub ? 'not posting' : 'holding back')});
    const parts = [
      CT.el('span', {class: 'who', text: p.name + (hub ? ' (hub)' : '')}),
      toggle(p, String(p.id), on, label, 'share', 'withhold'),
      CT.el('p', {class: `seen ${p.seen}`}, [
        CT.el('span', {class: 'mark', 'aria-hidden': 'true', text: mark[p.seen] || '–'}),
        document.createTextNode(p.seen_text + ' · you are '), state])];
    if (!hub) {
      parts.push(CT.el('div', {class: 'handing'}, [
        toggle(p, `x${p.id}`, p.extradite, `Hand over plotters to ${p.name}`, 'extradite', 'refuse'),
        CT.el('p', {class: 'muted', text: p.extradite
          ? `If ${p.name} catches plotters based in your country and asks for them, your courts hand them over where the law allows.`
          : `You refuse: plotters ${p.name} catches and asks for walk free.`})]));
    }
    return CT.el('div', {class: 'partner'}, parts);
  }

  async function decide(p, decision, key) {
    if (!canDecide()) return;
    busy.add(key);
    const focused = document.activeElement && document.activeElement.dataset.partner;
    try {
      const answer = await CT.post('decide', {code, token, partner: p.id, decision});
      const i = view.partners.findIndex(q => q.id === p.id);
      if (i >= 0) view.partners[i] = answer.partner;
      $('fatal').textContent = '';
    } catch (err) {
      $('fatal').textContent = err.message.charAt(0).toUpperCase() + err.message.slice(1) + '.';
    }
    busy.delete(key);
    drawPartners(focused);
  }

  function drawPartners(focused) {
    const box = $('partners');
    box.replaceChildren(...(view.partners.length ? view.partners.map(partnerRow)
      : [CT.el('p', {text: 'Your nation has no partners in this world.'})]));
    if (focused !== undefined && focused !== null) {
      const again = box.querySelector(`[data-partner="${focused}"]`);
      if (again) again.focus();
    }
  }

  function draw() {
    const me = view.me;
    document.title = `ctsim class: ${me.nation_name}`;
    $('title').textContent = `${me.nation_name} · ${me.name}`;
    $('status').textContent = CT.status(view);
    $('nation').textContent = me.nation_name;
    $('team').textContent = me.team.length ? `You play it with ${me.team.join(', ')}.` : 'You play it alone.';
    $('facts').replaceChildren(...me.facts.map(f => CT.el('li', {text: f})));
    const focused = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.partner : undefined;
    drawPartners(focused);
    $('partners-hint').textContent = view.phase === 'lobby'
      ? 'The teacher has not started yet. Your switches work once the class plays.'
      : view.phase === 'finished' ? 'The class has finished: look at the projector for the debrief.'
      : view.paused ? 'The teacher has paused the class.'
      : 'For each partner: share what you learn with them, or hold it back, and hand over the plotters they catch in your country, or refuse. Your choices count from the next week.';
    $('plots').replaceChildren(...(view.plots.length ? view.plots.map(p => CT.el('div', {class: 'plot'}, [
      CT.el('p', {}, [
        p.threatens_you ? CT.el('span', {class: 'you', text: '⚠ A plot against you'})
                        : document.createTextNode(`A plot against ${p.target}`),
        document.createTextNode(`: you hold ${p.pieces} piece${p.pieces === 1 ? '' : 's'}.`)]),
      CT.el('p', {class: 'muted', text: p.path.length ? `Others on its path: ${p.path.join(', ')}.` : 'Nobody else is on its path.'})]))
      : [CT.el('p', {text: 'You hold no pieces of a plot now.'})]));
    const report = view.report;
    const key = report ? `${report.round}` : null;
    if (report && key !== lastReport) {
      lastReport = key;
      $('report').hidden = false;
      $('report').replaceChildren(
        CT.el('h2', {text: `Round ${report.round} (weeks ${report.weeks[0]}–${report.weeks[1]})`}),
        CT.el('ul', {}, report.lines.map(line => CT.el('li', {text: line}))));
    }
    const done = $('done');
    done.setAttribute('aria-pressed', String(view.ready));
    done.textContent = view.ready ? '✓ Done for this round' : 'Done for this round';
    done.disabled = view.phase !== 'playing';
  }

  $('done').addEventListener('click', async () => {
    if (!view || view.phase !== 'playing') return;
    try {
      await CT.post('ready', {code, token, ready: !view.ready});
      $('fatal').textContent = '';
    } catch (err) { $('fatal').textContent = err.message + '.'; }
  });

  CT.poll('student', () => ({code, token}), data => { view = data; draw(); }, err => {
    if (err.status === 403 || err.status === 404) {
      localStorage.removeItem(CT.seatKey(code));
      $('fatal').textContent = 'This device is not in that class any more: join again.';
      setTimeout(() => location.replace(`/class?code=${encodeURIComponent(code)}`), 2500);
    } else $('fatal').textContent = err.message + '.';
  }, up => { $('conn').textContent = up ? '' : 'Reconnecting to the class…'; });
});

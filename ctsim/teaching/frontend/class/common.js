// The class mode's shared helpers: the API, the long poll, storage, small DOM helpers.
// Seat tokens live in localStorage (one per class code: a reload rejoins as the same
// nation); the teacher's key in sessionStorage (this tab only). Neither goes in a URL.
'use strict';

const CT = {
  seatKey: code => `ctsim-class-seat:${code}`,
  teacherKey: code => `ctsim-class-key:${code}`,

  // the class code of the page's link (?code=...)
  codeFromUrl() {
    const code = new URLSearchParams(location.search).get('code') || '';
    return code.replace(/\s+/g, '').toUpperCase();
  },

  // POST a JSON object; resolves to the answer, or throws an Error with .status and the
  // server's sentence (status 0: the network)
  async post(path, body, raw) {
    let response;
    try {
      response = await fetch(`/class/api/${path}`, {
        method: 'POST', headers: {'Content-Type': 'application/json'},
        body: typeof body === 'string' ? body : JSON.stringify(body), cache: 'no-store'});
    } catch (e) {
      const err = new Error('no connection to the class server');
      err.status = 0;
      throw err;
    }
    if (raw && response.ok) return response;
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      const err = new Error((data && data.error) || `the server answered ${response.status}`);
      err.status = response.status;
      throw err;
    }
    return data;
  },

  // Ask for a view again and again: each request waits on the server until the view
  // changes (or 20 s pass). onView gets each new view; onFatal an error that asking
  // again cannot mend (a wrong token or code); onLink the connection's state (true: up).
  poll(path, body, onView, onFatal, onLink) {
    let since = null, stopped = false, pause = 500;
    const loop = async () => {
      while (!stopped) {
        try {
          const data = await CT.post(path, {...body(), since, wait: 20});
          onLink(true);
          pause = 500;
          if (data.version === since && Object.keys(data).length === 1) continue;
          since = data.version;
          try { onView(data); } catch (err) { console.error(err); }
        } catch (err) {
          if (err.status >= 400 && err.status < 500) { onFatal(err); return; }
          onLink(false);
          await new Promise(resolve => setTimeout(resolve, pause));
          pause = Math.min(pause * 2, 5000);
        }
      }
    };
    loop();
    return {stop() { stopped = true; }, again() { since = null; }};
  },

  // a download of a POST's answer (the teacher's key stays in the body)
  async download(path, body, filename) {
    const response = await CT.post(path, body, true);
    const blob = await response.blob();
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  },

  // an element: el('li', {class: 'x', text: '...'}, [children])
  el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') node.textContent = v;
      else if (k === 'on') for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const child of children || []) if (child) node.append(child);
    return node;
  },

  svg(tag, attrs, children) {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined) continue;
      if (k === 'text') node.textContent = v; else node.setAttribute(k, v);
    }
    for (const child of children || []) if (child) node.append(child);
    return node;
  },

  // "round 3 of 10 · week 12 of 40", with the phase in words
  status(view) {
    if (view.phase === 'lobby') return 'waiting for the teacher to start';
    if (view.phase === 'finished') return `finished after week ${view.week}`;
    return `round ${Math.min(view.round + 1, view.rounds)} of ${view.rounds} · ` +
      `week ${view.week} of ${view.horizon}` + (view.paused ? ' · paused' : '');
  },
};

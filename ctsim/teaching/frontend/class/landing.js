// The landing page: a student joins with the class code and a first name; the teacher
// starts a class (or replays one from its record) and goes to the projector's page.
'use strict';

document.addEventListener('DOMContentLoaded', async () => {
  const $ = id => document.getElementById(id);
  const code = CT.codeFromUrl();
  if (code) {
    $('code').value = code;
    const token = localStorage.getItem(CT.seatKey(code));
    if (token) {
      const link = CT.el('a', {href: `/class/play?code=${encodeURIComponent(code)}`,
                               class: 'button primary', text: 'Continue as your nation'});
      $('again').append('This device has joined class ' + code + '. ', link);
    }
    $('name').focus();
  }

  $('join').addEventListener('submit', async event => {
    event.preventDefault();
    $('join-error').textContent = '';
    const classCode = $('code').value.replace(/\s+/g, '').toUpperCase();
    const name = $('name').value.trim();
    if (!classCode) { $('join-error').textContent = 'Type the class code.'; $('code').focus(); return; }
    if (!name) { $('join-error').textContent = 'Type your first name.'; $('name').focus(); return; }
    $('join-button').disabled = true;
    try {
      const seat = await CT.post('join', {code: classCode, name});
      localStorage.setItem(CT.seatKey(seat.code), seat.token);
      location.href = `/class/play?code=${encodeURIComponent(seat.code)}`;
    } catch (err) {
      $('join-error').textContent = err.message.charAt(0).toUpperCase() + err.message.slice(1) + '.';
      $('join-button').disabled = false;
    }
  });

  const teach = answer => {
    sessionStorage.setItem(CT.teacherKey(answer.code), answer.key);
    location.href = `/class/teach?code=${encodeURIComponent(answer.code)}`;
  };

  $('start').addEventListener('submit', async event => {
    event.preventDefault();
    $('start-error').textContent = '';
    try {
      teach(await CT.post('start', {world: $('world').value, round_weeks: +$('weeks').value,
                                    others: $('others').value, seed: +$('seed').value || 1}));
    } catch (err) { $('start-error').textContent = err.message + '.'; }
  });

  $('replay').addEventListener('submit', async event => {
    event.preventDefault();
    $('replay-error').textContent = '';
    const file = $('record').files[0];
    if (!file) { $('replay-error').textContent = 'Choose the record file first.'; return; }
    try { teach(await CT.post('replay', await file.text())); }
    catch (err) { $('replay-error').textContent = err.message + '.'; }
  });

  try {
    const info = await fetch('/class/api/worlds').then(r => r.json());
    for (const w of info.worlds)
      $('world').append(CT.el('option', {value: w.name, text: w.title, selected: w.name === info.default}));
    for (const s of info.strategies)
      $('others').append(CT.el('option', {value: s.name, text: s.label, selected: s.name === info.others}));
    $('weeks').min = info.round_weeks[0];
    $('weeks').max = info.round_weeks[1];
    $('reach').textContent = info.hint;
  } catch (err) { $('start-error').textContent = 'The class server cannot be reached.'; }
});

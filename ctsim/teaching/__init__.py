"""The classroom: the teaching room.

- :mod:`~ctsim.teaching.page`: the page ``ctsim app`` serves (Solara, ``frontend/``);
- :mod:`~ctsim.teaching.sessions`: one tab's runs, settings, link and what is drawn,
  without the page;
- :mod:`~ctsim.teaching.narrator`: the week's events in plain words, from the event log;
- :mod:`~ctsim.teaching.lessons`: the lessons, read from their files beside their
  scenarios (``scenarios/lessons/*.lesson.yml``), and docs/lessons.md written from them;
- :mod:`~ctsim.teaching.claims`: each lesson's claims measured on the model (not on the
  page's import path).
"""

"""Insight reports (SPEC §4.5, practices P4 and P6): figures per learner, team and
programme, one layer per job.

- :mod:`~buyin.report.stats`: medians, means, Welch, Wilson and Newcombe intervals;
- :mod:`~buyin.report.figures`: per-learner figures from the history points;
- :mod:`~buyin.report.cohorts`: cohort selection, pilot against baseline;
- :mod:`~buyin.report.programme` and :mod:`~buyin.report.team`: the two reports;
- :mod:`~buyin.report.export` (CSV rows, JSON) and :mod:`~buyin.report.html` (pygal);
- :mod:`~buyin.report.load`: the one loader (state, mappings, Moodle cohorts).

All but ``load`` and ``html`` are pure: no database, no network, no clock.
"""

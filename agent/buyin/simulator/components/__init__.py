"""The simulated site's web-service functions, one module per Moodle component;
:mod:`buyin.simulator.dispatch` maps each function name to its handler."""

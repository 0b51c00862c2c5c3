"""Talking to Moodle: the REST client (``client``), the contract schemas
(``contract``), PHP-style form encoding (``encoding``), payloads → model
(``parse``), one question per function with one pager (``fetch``), the bounded
thread pool (``pool``) and one programme's pull (``pull``)."""

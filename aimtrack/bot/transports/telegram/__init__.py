"""The Telegram transport on python-telegram-bot 22: updates in, core inputs; replies out.

- :mod:`.service`: :func:`~.service.run_telegram` runs until SIGINT or SIGTERM: long polling
  by default, or a webhook with a ``secret_token`` when ``AIMTRACK_WEBHOOK_URL`` is set, served
  by the web page's ``POST /telegram`` (:class:`aimtrack.web.app.Webhook`) on the same port;
  PTB's JobQueue ticks the job worker and the reminder scan.
- :mod:`.application`: the PTB application on ``AIMTRACK_TELEGRAM_BASE_URL`` (a local Bot API
  server, or the fake one in tests); ``AIORateLimiter`` keeps us inside Telegram's flood limits
  and waits out a 429's ``retry_after`` (three times), and :class:`~.application.
  RetryingRateLimiter` also tries a call again after a 5xx, a dropped connection or a timeout
  (docs/faults.md); ``/health`` shows when Telegram last answered.
- :mod:`.polling`: our own getUpdates loop, which confirms an update only once it was handled.
- :mod:`.updates`: an update becomes one core input; every update id goes to the core, which
  handles a replayed update once; only private chats are served.
- :mod:`.rendering`: replies are HTML-escaped and split below 4,096 characters, buttons on the
  last part; jobs push through the same rendering.

What each user may do (``AIMTRACK_USER_MESSAGES_PER_MINUTE`` and the like, docs/abuse.md) is
the core's business: the composition root gives the conversation these limits.
"""

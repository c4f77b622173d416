"""The HTTP layer: the Litestar app (`app.py`), its routes, API-key auth and scope guards,
error → HTTP mapping (`errors.py`), dependency injection (`deps.py`), and the staff page
(`web/`). It calls the domain below it; nothing below imports from here."""

"""The minimal web page (Starlette, in the bot's event loop): /health and the signed export
page. (Built by the exports work.)
"""

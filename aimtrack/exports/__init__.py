"""Exports: the licence register report to CSV and PDF bytes, pure (data in, bytes out).
(Built by the exports work.)
"""

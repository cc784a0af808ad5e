"""Limits that keep one request from taking the server down, checked before execution.

One small module per rule, as graphql-core arranges its validation rules; `extension.py`
applies them with the request's settings.
"""

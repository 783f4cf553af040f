"""devicekeys: crypto-bound device identity, the domain shared by every function.

Nothing in this package knows about API Gateway except ``devicekeys.lambda_api``, the thin
glue the handlers use; the rest works the same from HTTP, Step Functions and local runs.
"""

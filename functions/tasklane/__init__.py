"""tasklane: a serverless task queue for AWS (the Lambda side)."""

"""Data access: the only code that talks to AWS (DynamoDB, SQS, S3); AWS errors become domain errors."""

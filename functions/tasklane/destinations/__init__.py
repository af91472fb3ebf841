"""Where a webhook (or a target's HTTP call) may go and how it is reached: the address and URL rules,
the check of every address a name resolves to, and the post to the very address that was checked."""

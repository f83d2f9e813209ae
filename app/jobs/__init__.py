"""Job domain: accept uploads, split them into chunks, record progress and results."""

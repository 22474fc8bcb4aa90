"""The LINE Messaging API stand-in and LINE on the customer phone."""

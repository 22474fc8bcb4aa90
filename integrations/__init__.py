"""Every third-party system, one package each (inbox side: intercom, hubspot; channel
side: whatsapp, twilio, telegram, messenger). Adapters take and return plain data and
never import ``channels``."""

"""Twilio Programmable Messaging (SMS/MMS, and WhatsApp senders on Twilio)."""

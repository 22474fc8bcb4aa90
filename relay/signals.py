"""What the relay tells the rest of the product, without depending on it."""

from django.dispatch import Signal

# Sent once a conversation the inbox opened for a customer's message is recorded (the
# delivery committed): ``contact`` and ``conversation`` (channels.models). Receivers run
# on the relay's thread; one that fails is logged and the relay goes on
# (Signal.send_robust).
conversation_opened = Signal()

"""The development mailer: the console backend, printing what a person can follow."""

import email.policy

from django.core.mail.backends import console

# RFC 5322's limit for a line (998 characters). Under the default policy's 78, any
# longer line (a confirmation link with its key) makes Python pick quoted-printable,
# whose soft line breaks split the link over two lines with a trailing "=": printed that
# way it cannot be clicked or pasted. Under 998 a plain-text body goes out as 7bit (or
# 8bit with non-ASCII), each line exactly as written.
READABLE = email.policy.default.clone(max_line_length=998)


class ConsoleEmailBackend(console.EmailBackend):
    """Django's console backend, with each message rendered under ``READABLE``."""

    def write_message(self, message):
        msg = message.message(policy=READABLE)
        charset = msg.get_charset().get_output_charset() if msg.get_charset() else "utf-8"
        self.stream.write(f"{msg.as_bytes().decode(charset)}\n")
        self.stream.write("-" * 79)
        self.stream.write("\n")

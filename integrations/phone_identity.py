"""One customer, one number: the national equivalences under which two E.164 strings
are the same person's phone.

WhatsApp (and, less often, SMS providers) report some numbers in a form other than the
one a person types or an agent stores. Three such equivalences are known and published;
each is applied to mobile numbers only:

- **Brazil, the ninth digit.** Anatel added a leading 9 to every mobile number between
  2012 (area code 11) and 6 November 2016 (the last area codes 41-55): ``+55 DD
  XXXX-XXXX`` became ``+55 DD 9XXXX-XXXX`` (Algar Telecom, "Nono dígito",
  https://algartelecom.com.br/empresas/atendimento/nono-digito.html, citing Anatel
  Resolução 553; Estadão, "Celulares do AP, AM, MA, PA e RR terão nove dígitos").
  Mobile lines began 6-9 before the change; landlines (2-5) were never changed.
  WhatsApp kept accounts registered before the change on the 8-digit form, so Meta's
  ``wa_id`` for the same person is either (wwebjs/whatsapp-web.js#596, Baileys#1997,
  chatwoot/chatwoot#5840 and #13986).
- **Mexico, the 1 after 52.** Mobiles used to be dialled from abroad as ``+52 1`` +
  10 digits; since August 2019 the 1 is gone (``+52`` + 10 digits). libphonenumber
  formats the new form (daddyz/phonelib#254, citing "Mexico Simplifies its Telephone
  Dialing Rules"), while Meta and Twilio still report ``521…`` (chatwoot/chatwoot#14174).
- **Argentina, the 9 after 54.** Mobiles are dialled from abroad as ``+54 9`` + area
  code + number, and SMS reach the same line without the 9 (Wikipedia "Telephone
  numbers in Argentina", cited in AfterShip/phone#125 and #18; floere/phony#310;
  google/libphonenumber#684).

``equivalents`` gives every form; ``canonical`` the one we show and send to inboxes
(the form libphonenumber calls valid today: Brazil with the 9, Mexico without the 1,
Argentina with the 9).
"""

import re

# +55, a two-digit area code (11-99, no 0 in it), then a mobile's 8 digits (first 6-9)
# with or without the ninth-digit 9 before them.
_BRAZIL = re.compile(r"^\+55([1-9][1-9])(9?)([6-9]\d{7})$")
_MEXICO = re.compile(r"^\+52(1?)(\d{10})$")
_ARGENTINA = re.compile(r"^\+54(9?)(\d{10})$")


def equivalents(e164: str) -> tuple[str, ...]:
    """``e164`` first, then the other forms of the same mobile number (none for a
    number no equivalence applies to). Empty for an empty number."""
    if not e164:
        return ()
    if match := _BRAZIL.match(e164):
        area, nine, number = match.groups()
        other = f"+55{area}{number}" if nine else f"+55{area}9{number}"
        return (e164, other)
    if match := _MEXICO.match(e164):
        one, number = match.groups()
        return (e164, f"+52{number}" if one else f"+521{number}")
    if match := _ARGENTINA.match(e164):
        nine, number = match.groups()
        return (e164, f"+54{number}" if nine else f"+549{number}")
    return (e164,)


def canonical(e164: str) -> str:
    """The form of ``e164`` libphonenumber takes for valid today (see the module's
    docstring); the number itself where no equivalence applies."""
    if match := _BRAZIL.match(e164):
        area, _, number = match.groups()
        return f"+55{area}9{number}"
    if match := _MEXICO.match(e164):
        return f"+52{match.group(2)}"
    if match := _ARGENTINA.match(e164):
        return f"+549{match.group(2)}"
    return e164


def equivalent_ids(external_id: str, phone: str) -> tuple[str, ...]:
    """A provider's id for a customer rewritten for each equivalent form of their
    number, where the id carries it (WhatsApp's wa_id is the number without "+",
    Twilio's address the number itself or ``whatsapp:+…``); ``external_id`` first."""
    forms = equivalents(phone)
    digits = phone.removeprefix("+")
    if len(forms) < 2 or not digits or digits not in external_id:
        return (external_id,)
    return (external_id, *(external_id.replace(digits, f.removeprefix("+")) for f in forms[1:]))

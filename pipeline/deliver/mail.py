"""The digest as one e-mail: a plain-text and an HTML part, sent over SMTP with STARTTLS (certificate verified).

The login comes from SUMMARIZE_SMTP_USER / SUMMARIZE_SMTP_PASSWORD only; it is never written anywhere and never
sent over a connection that is not encrypted (except to this machine's own relay). Every failure is a
`DeliveryError` with the server's answer."""

from __future__ import annotations

import ipaddress
import os
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid

from pipeline.deliver.render import plain
from pipeline.errors import DeliveryError
from pipeline.sections import Delivery

USER_ENV = "SUMMARIZE_SMTP_USER"
PASSWORD_ENV = "SUMMARIZE_SMTP_PASSWORD"
MAX_ANSWER = 500


def message(delivery: Delivery, subject: str, text: str, page: str, digest_id: str) -> EmailMessage:
    if not delivery.email_from:
        raise DeliveryError("e-mail: no sender; set --email-from (config: [delivery] email_from)", channel="email")
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["Subject"] = plain(subject)  # a header value never holds a line break (the policy refuses one too)
    msg["From"] = delivery.email_from
    msg["To"] = ", ".join(delivery.email_to)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(idstring=digest_id, domain=delivery.email_from.rpartition("@")[2])
    msg["X-Summarize-Digest"] = digest_id
    msg.set_content(text)
    msg.add_alternative(page, subtype="html")
    return msg


def _local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _answer(raw: object, password: str | None) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    if password:
        text = text.replace(password, "***")
    return plain(text)[:MAX_ANSWER]


def send(msg: EmailMessage, delivery: Delivery) -> str:
    """Send ``msg`` to ``delivery.email_to`` through ``delivery.smtp_host``; a DeliveryError says what went wrong.
    Returns what the server refused when it took the message for some recipients only ("" when for all)."""
    host, port = delivery.smtp_host, delivery.smtp_port
    if not host:
        raise DeliveryError("e-mail: no SMTP server; set --smtp-host (config: [delivery] smtp_host)", channel="email")
    user, password = os.environ.get(USER_ENV) or None, os.environ.get(PASSWORD_ENV) or None
    if bool(user) != bool(password):
        missing = PASSWORD_ENV if user else USER_ENV
        raise DeliveryError(f"e-mail: {missing} is not set (the SMTP login needs both variables)", channel="email")
    if user and not delivery.smtp_starttls and not _local(host):
        raise DeliveryError(
            f"e-mail: refusing to send the SMTP login to {host} unencrypted; turn STARTTLS on (--smtp-starttls)",
            channel="email",
        )
    where = f"e-mail via {host}:{port}"
    try:
        with smtplib.SMTP(host, port, timeout=delivery.smtp_timeout_s) as smtp:
            smtp.ehlo()
            if delivery.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if user:
                smtp.login(user, str(password))
            refused = smtp.send_message(msg, to_addrs=list(delivery.email_to))
    except smtplib.SMTPNotSupportedError as exc:  # no STARTTLS, or no AUTH while a login is set
        hint = " (a local relay without it: --no-smtp-starttls)" if "STARTTLS" in str(exc) else ""
        raise DeliveryError(f"{where}: {exc}{hint}", channel="email", answer=str(exc)) from None
    except smtplib.SMTPAuthenticationError as exc:
        answer = f"{exc.smtp_code} {_answer(exc.smtp_error, password)}"
        raise DeliveryError(f"{where}: the login was refused: {answer}", channel="email", answer=answer) from None
    except smtplib.SMTPRecipientsRefused as exc:
        answer = "; ".join(f"{to}: {code} {_answer(text, password)}" for to, (code, text) in exc.recipients.items())
        raise DeliveryError(f"{where}: every recipient was refused: {answer}", channel="email", answer=answer) from None
    except smtplib.SMTPResponseException as exc:
        answer = f"{exc.smtp_code} {_answer(exc.smtp_error, password)}"
        raise DeliveryError(f"{where}: the server answered {answer}", channel="email", answer=answer) from None
    except ssl.SSLError as exc:
        answer = _answer(exc, password)
        raise DeliveryError(f"{where}: TLS failed ({answer})", channel="email", answer=answer) from None
    except (OSError, smtplib.SMTPException) as exc:
        answer = _answer(getattr(exc, "strerror", None) or exc, password)
        raise DeliveryError(f"{where}: cannot deliver ({answer})", channel="email", answer=answer) from None
    if not refused:
        return ""
    answer = "; ".join(f"{to}: {code} {_answer(text, password)}" for to, (code, text) in refused.items())
    return f"{where}: sent, but some recipients were refused: {answer}"

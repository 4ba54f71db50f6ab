"""Probes of what DNS cannot show: STARTTLS on a mail server (smtp.py) and an MTA-STS policy
served over HTTPS (https.py). The checks ask for them as they ask for DNS answers: a Query of a
probe type, answered with a Lookup (prober.py); so a probe's answer is cached, shared between
the domains that ask it, and part of a check's digest like any other answer."""

"""domainwatch: continuous verification of email-domain DNS records."""

__version__ = "0.1.0"

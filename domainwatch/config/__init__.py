"""Configuration: YAML -> frozen, validated Config. `load(path)` is the only I/O."""

from domainwatch.config.domains import DomainConfig
from domainwatch.config.loader import ConfigError, load, parse
from domainwatch.config.schema import Config

__all__ = ["Config", "ConfigError", "DomainConfig", "load", "parse"]

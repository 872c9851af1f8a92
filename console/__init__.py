"""The staff console (工作台): sign-in through the Official Account, the live ticket board, a
ticket's page and its actions. Served by `baishitong serve` at /console; no rule of its own:
every change is a desk operation, as from WeChat."""

from console.app import setup

__all__ = ["setup"]

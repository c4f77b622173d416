"""Batch import from CRM exports: mapping, readers, the batch writer, the report."""

from prefstore.transfer.importer import Importer, ImportOptions
from prefstore.transfer.mapping import PRESETS, Mapping

__all__ = ["PRESETS", "ImportOptions", "Importer", "Mapping"]

"""Batch import from CRM exports: mapping, readers, the batch writer, the report."""

from prefstore.importing.mapping import PRESETS, Mapping
from prefstore.importing.run import Importer, ImportOptions

__all__ = ["PRESETS", "ImportOptions", "Importer", "Mapping"]

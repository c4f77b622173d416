"""The importer's public face (the engine lives in `prefstore.importing`)."""

from prefstore.importing import PRESETS, Importer, ImportOptions, Mapping

__all__ = ["PRESETS", "ImportOptions", "Importer", "Mapping"]

"""pandera validation of API payloads: raw rows in, (valid rows, rejects) out, before any write.

The datasets' own modules turn valid rows into warehouse rows; the schemas come from their
column specs (``validation.schema.payload_schema``).
"""

from opinion_pipeline.validation.frames import PayloadUnusableError, Reject, summarise_rejects

__all__ = ["PayloadUnusableError", "Reject", "summarise_rejects"]

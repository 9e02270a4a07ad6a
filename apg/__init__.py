"""apg-kit: replication kit for APG (Yan et al., NeurIPS 2022)."""

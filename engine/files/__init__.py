"""Material files (申请材料的电子件): content-addressed bytes behind a small storage interface, their kind sniffed
from the content, and a registry row per file so a case's events can name a file by its SHA-256 alone."""

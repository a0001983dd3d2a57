"""File storage for uploads (chat images and files) behind one small interface.

`FileStore` is what the rest of salon sees: put bytes under a key, open them again as a
stream, delete them. `LocalFileStore` keeps them in a directory (by default
`<data_dir>/files`); an object store such as S3 fits the same three calls (`put_object`,
a streamed `get_object`, `delete_object`), so swapping it in touches no caller. Keys are
chosen by salon (`<meeting id>/<file id>`), never by a client, and metadata (name, type,
size, owner) lives in the database, not in the store.
"""

from salon.files.local import LocalFileStore
from salon.files.store import FileStore, StoredFile

__all__ = ["FileStore", "LocalFileStore", "StoredFile"]

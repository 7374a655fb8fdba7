"""client.files and client.uploads against the server: multipart upload, exact bytes
back, listing, deletion, OpenAI's errors, and a chunked upload that becomes a file."""

import hashlib

import openai
import pytest

BINARY = bytes(range(256)) * 3


def test_file_lifecycle_returns_the_exact_bytes(client):
    created = client.files.create(file=("blob.bin", BINARY), purpose="assistants")
    try:
        assert created.id.startswith("file-") and len(created.id) == len("file-") + 22
        assert (created.object, created.purpose, created.filename) == ("file", "assistants", "blob.bin")
        assert created.bytes == len(BINARY) and created.status == "processed"

        assert client.files.content(created.id).read() == BINARY
        assert client.files.retrieve(created.id) == created
        listed = client.files.list(purpose="assistants")
        assert created.id in [f.id for f in listed.data]
    finally:
        deleted = client.files.delete(created.id)
    assert (deleted.id, deleted.deleted) == (created.id, True)
    with pytest.raises(openai.NotFoundError) as err:
        client.files.retrieve(created.id)
    assert err.value.body["message"] == f"No such File object: {created.id}"
    assert err.value.body["param"] == "id"


def test_non_ascii_filename_round_trips(client):
    created = client.files.create(file=("你好.txt", "Hello, 世界".encode()), purpose="user_data")
    try:
        assert client.files.retrieve(created.id).filename == "你好.txt"
    finally:
        client.files.delete(created.id)


def test_list_pages_with_limit_and_after(client):
    ids = [client.files.create(file=(f"{n}.txt", b"x"), purpose="batch").id for n in range(3)]
    try:
        page = client.files.list(purpose="batch", limit=2)
        assert [f.id for f in page.data] == ids[::-1][:2]
        assert page.has_more
        everything = [f.id for f in client.files.list(purpose="batch", limit=2)]
        assert everything == ids[::-1]
    finally:
        for file_id in ids:
            client.files.delete(file_id)


def test_bad_purpose_gets_openais_message(client):
    with pytest.raises(openai.BadRequestError) as err:
        client.files.create(file=("a.txt", b"a"), purpose="world_domination")
    assert err.value.body["message"] == (
        "'world_domination' is not one of ['fine-tune', 'assistants', 'batch', 'user_data', "
        "'vision', 'evals'] - 'purpose'"
    )


def test_files_are_private_to_their_tenant(client, other_tenant):
    created = client.files.create(file=("secret.txt", b"mine"), purpose="assistants")
    try:
        with pytest.raises(openai.NotFoundError):
            other_tenant.files.content(created.id)
        assert created.id not in [f.id for f in other_tenant.files.list()]
    finally:
        client.files.delete(created.id)


def test_upload_file_chunked_becomes_an_ordinary_file(client):
    data = bytes(range(256)) * 40 + "é".encode()
    upload = client.uploads.upload_file_chunked(
        file=data,
        bytes=len(data),
        filename="chunked.bin",
        mime_type="application/octet-stream",
        purpose="assistants",
        part_size=1000,
        md5=hashlib.md5(data).hexdigest(),
    )
    assert upload.status == "completed" and upload.id.startswith("upload_")
    assert upload.file is not None and upload.file.bytes == len(data)
    try:
        assert client.files.content(upload.file.id).read() == data
        assert client.files.retrieve(upload.file.id).filename == "chunked.bin"
    finally:
        client.files.delete(upload.file.id)


def test_upload_file_chunked_from_a_path(client, tmp_path):
    path = tmp_path / "from-disk.txt"
    path.write_bytes(b"line\n" * 500)
    upload = client.uploads.upload_file_chunked(
        file=path, mime_type="text/plain", purpose="assistants", part_size=700
    )
    try:
        assert upload.file.filename == "from-disk.txt"
        assert client.files.content(upload.file.id).read() == path.read_bytes()
    finally:
        client.files.delete(upload.file.id)


def test_cancelled_upload_takes_no_more_parts(client):
    upload = client.uploads.create(
        bytes=4, filename="c.txt", mime_type="text/plain", purpose="assistants"
    )
    client.uploads.parts.create(upload.id, data=b"ab")
    cancelled = client.uploads.cancel(upload.id)
    assert cancelled.status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        client.uploads.parts.create(upload.id, data=b"cd")

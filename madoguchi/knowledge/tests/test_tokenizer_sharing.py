"""Sudachi's dictionary is loaded once per process and its tokenizers are shared by all threads.

The ASGI server (`madoguchi serve`) runs each sync view in a thread of its own choosing, very
often a new one; a tokenizer cached per thread was built again (dictionary and all, 33-295 ms)
in most search and suggestion requests. Here many short-lived threads tokenise, some at once,
as the server's request threads do, and the dictionary must not be loaded again nor more than
POOL_SIZE tokenizers made."""

from __future__ import annotations

import threading
from typing import Any

from sudachipy import dictionary

from madoguchi.knowledge import text

COMPLAINT = "本日届いた急須の注ぎ口が割れていました。注文番号KM-100123、交換をお願いできますか。"


def test_new_threads_borrow_the_processes_tokenizers_instead_of_building_their_own(monkeypatch: Any) -> None:
    expected = text.index_tokens(COMPLAINT)  # the process has its dictionary loaded from here on
    loads: list[object] = []
    real = dictionary.Dictionary

    def counted(*args: Any, **kwargs: Any) -> Any:  # Sudachi's own class, only counted
        loads.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(dictionary, "Dictionary", counted)
    results: list[str] = []
    errors: list[BaseException] = []

    def request() -> None:
        try:
            for _ in range(3):
                results.append(text.index_tokens(COMPLAINT))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    for _wave in range(5):  # 5 waves of 8 new threads at once: 40 "requests"
        threads = [threading.Thread(target=request) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    assert results == [expected] * 120  # concurrent use never mixed two texts up
    assert loads == []  # the dictionary was not loaded again by any new thread
    assert 1 <= text.pool.built <= text.POOL_SIZE

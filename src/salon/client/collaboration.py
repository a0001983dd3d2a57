"""Plugins, stores, polls and Q&A requests (docs/plugins-and-stores.md, docs/polls-and-qna.md)."""

from typing import Any

from salon.client.requester import Requester


class CollaborationActions(Requester):
    # plugins (docs/plugins-and-stores.md)
    async def plugins(self) -> dict[str, Any]:
        """`{"plugins": [registry entries with active, activated_by, access], "active"}`."""
        return await self.request("plugin.list")

    async def activate_plugin(self, plugin_id: str) -> dict[str, Any]:
        return (await self.request("plugin.activate", plugin_id=plugin_id))["plugin"]

    async def deactivate_plugin(self, plugin_id: str) -> dict[str, Any]:
        return await self.request("plugin.deactivate", plugin_id=plugin_id)

    async def plugin_message(self, plugin_id: str, payload: Any = None, *,
                             to: list[str] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"plugin_id": plugin_id, "payload": payload}
        if to is not None:
            data["to"] = to
        return await self.request("plugin.message", **data)

    async def set_plugin_state(self, plugin_id: str, key: str, value: Any) -> dict[str, Any]:
        """Set one key of the plugin's shared state; `None` removes it."""
        return await self.request("plugin.state.set", plugin_id=plugin_id, key=key, value=value)

    async def plugin_state(self, plugin_id: str, key: str | None = None) -> Any:
        """The whole state (a dict), or one key's value (None when unset)."""
        if key is None:
            return (await self.request("plugin.state.get", plugin_id=plugin_id))["state"]
        return (await self.request("plugin.state.get", plugin_id=plugin_id, key=key))["value"]

    # collaborative stores (docs/plugins-and-stores.md); writes answer `{store, changes}`
    async def store_set(self, store: str, key: str, value: Any) -> dict[str, Any]:
        return await self.request("store.set", store=store, key=key, value=value)

    async def store_update(self, store: str, key: str, value: Any) -> dict[str, Any]:
        """Merge an object into an object, append to a list, or set a missing key."""
        return await self.request("store.update", store=store, key=key, value=value)

    async def store_delete(self, store: str, key: str) -> dict[str, Any]:
        return await self.request("store.delete", store=store, key=key)

    async def store_bulk_set(self, store: str, items: dict[str, Any]) -> dict[str, Any]:
        return await self.request("store.bulk_set", store=store, items=items)

    async def store_bulk_delete(self, store: str, keys: list[str]) -> dict[str, Any]:
        return await self.request("store.bulk_delete", store=store, keys=keys)

    async def store_get(self, store: str, key: str) -> Any:
        """The key's value, or None when it is not set."""
        return (await self.request("store.get", store=store, key=key))["value"]

    async def store_get_all(self, store: str) -> dict[str, Any]:
        return (await self.request("store.get_all", store=store))["items"]

    async def store_subscribe(self, store: str, keys: list[str] | None = None) -> dict[str, Any]:
        """Follow keys (every key by default); answers `{store, keys, items}` (current values)."""
        if keys is None:
            return await self.request("store.subscribe", store=store)
        return await self.request("store.subscribe", store=store, keys=keys)

    async def store_unsubscribe(self, store: str,
                                keys: list[str] | None = None) -> dict[str, Any]:
        """Stop following some keys (`"*"` is the every-key subscription), or all of them."""
        if keys is None:
            return await self.request("store.unsubscribe", store=store)
        return await self.request("store.unsubscribe", store=store, keys=keys)

    # polls (docs/polls-and-qna.md)
    async def create_poll(self, question: str, options: list[str], *, anonymous: bool = False,
                          hide_votes: bool = False) -> dict[str, Any]:
        """`{"poll": …}` (or `{"poll_id"}` for a creator who may not view polls)."""
        return await self.request("poll.create", question=question, options=options,
                                  anonymous=anonymous, hide_votes=hide_votes)

    async def vote(self, poll_id: str, index: int) -> dict[str, Any]:
        return await self.request("poll.vote", poll_id=poll_id, index=index)

    async def polls(self) -> list[dict[str, Any]]:
        return (await self.request("poll.list"))["polls"]

    # Q&A, a salon addition (docs/polls-and-qna.md)
    async def ask(self, text: str) -> dict[str, Any]:
        return (await self.request("qna.ask", text=text))["question"]

    async def upvote(self, question_id: str) -> dict[str, Any]:
        """The question; for the audience of a large room, `{question_id, upvotes}` (a
        whole question lists every upvoter)."""
        reply = await self.request("qna.upvote", question_id=question_id)
        return reply.get("question", reply)

    async def answer(self, question_id: str, answer: str | None = None) -> dict[str, Any]:
        return (await self.request("qna.answer", question_id=question_id,
                                   answer=answer))["question"]

    async def dismiss(self, question_id: str) -> dict[str, Any]:
        return (await self.request("qna.dismiss", question_id=question_id))["question"]

    async def questions(self) -> list[dict[str, Any]]:
        return (await self.request("qna.list"))["questions"]

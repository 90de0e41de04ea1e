def test_deck_names_default(anki):
    assert "Default" in anki.call("deckNames")

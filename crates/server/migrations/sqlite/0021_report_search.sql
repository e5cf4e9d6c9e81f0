-- The report's substring filter ("contains") on per-user text, answered from an index: the
-- trigram tokenizer indexes every run of three characters, so a search of three or more
-- characters reads only the users that hold it. (Customer-level text is searched through
-- `user_counts`.)
--
-- The index holds the text lowercased the way SQLite's lower() does (ASCII only) and matches
-- case-sensitively, so a match is exactly what `LIKE '%…%'` (ASCII case-insensitive) would
-- find; it stores no copy of the text (contentless), and triggers keep it in step with
-- `users` in the transaction of each change.
CREATE VIRTUAL TABLE users_search USING fts5(
    user_name, email, custom_attribute_value,
    content = '', contentless_delete = 1, tokenize = 'trigram case_sensitive 1'
);
INSERT INTO users_search (rowid, user_name, email, custom_attribute_value)
    SELECT id, lower(user_name), lower(email), lower(custom_attribute_value) FROM users;

CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_search (rowid, user_name, email, custom_attribute_value)
        VALUES (new.id, lower(new.user_name), lower(new.email), lower(new.custom_attribute_value));
END;

CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    DELETE FROM users_search WHERE rowid = old.id;
END;

CREATE TRIGGER users_search_update AFTER UPDATE OF user_name, email, custom_attribute_value
    ON users
BEGIN
    DELETE FROM users_search WHERE rowid = old.id;
    INSERT INTO users_search (rowid, user_name, email, custom_attribute_value)
        VALUES (new.id, lower(new.user_name), lower(new.email), lower(new.custom_attribute_value));
END;

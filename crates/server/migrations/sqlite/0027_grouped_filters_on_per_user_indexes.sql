-- A total that mixes a filter most users pass (status Active, say) with a range on a per-user
-- column (usage over 1,000 MB) was counted through the status index, reading most users' rows:
-- 400 ms at a million users. The per-user columns' indexes now carry status, license and
-- Managed By after (value, id), so such a total counts index entries only (the report's count
-- chooses the index, see `db::report::counting_index`). The order is unchanged: the columns
-- follow the unique id. Not the profile: mapping re-evaluations rewrite it for every moved user.
-- Not the custom attribute value's index: half the users have none, and the total of "is empty"
-- counts that index's entries, which wider entries made slower (19 → 31 ms).
DROP INDEX users_by_name;
CREATE INDEX users_by_name ON users (user_name COLLATE NOCASE, id, status, license, managed_by);
DROP INDEX users_by_email;
CREATE INDEX users_by_email ON users (email COLLATE NOCASE, id, status, license, managed_by);
DROP INDEX users_by_usage;
CREATE INDEX users_by_usage ON users (usage_mb, id, status, license, managed_by);

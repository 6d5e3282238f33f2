-- Local and test stacks only (the stack manager applies supabase/seeds; a hosted deploy
-- runs supabase/seed.sql alone): webhook subscriptions may target local receivers
-- (127.0.0.1), which outbox.allowPrivateTargets refuses by default (SSRF). Insert-if-missing:
-- an operator's own setting is never overwritten.
insert into public.feature_flags_v2 (key, scope, value, reason, owner_name)
values ('outbox.allowPrivateTargets', 'global', 'true', 'local stack: receivers on 127.0.0.1', 'system')
on conflict (key, scope) do nothing;

-- States are namespaced per feature, and ids live in the draft rather than in the state's name.
UPDATE conversations SET state = 'menu:language' WHERE state = 'language';
UPDATE conversations SET state = 'menu:main' WHERE state = 'menu';
UPDATE conversations SET state = 'mine:list' WHERE state = 'mine';
UPDATE conversations SET state = 'notify:topics' WHERE state = 'notify';
UPDATE conversations SET state = 'consult:list' WHERE state = 'consult';
UPDATE conversations SET state = 'announce:confirm' WHERE state = 'announce_confirm';
UPDATE conversations
   SET draft = json_set(draft, '$.topic', substr(state, 10)), state = 'announce:write'
 WHERE state LIKE 'announce:%' AND state NOT IN ('announce:confirm', 'announce:write');
UPDATE conversations
   SET draft = json_set(draft, '$.report_id', CAST(substr(state, 8) AS INTEGER)),
       state = 'followup:answer'
 WHERE state LIKE 'answer:%';
UPDATE conversations
   SET draft = json_set(draft, '$.report_id', CAST(substr(state, 9) AS INTEGER)),
       state = 'followup:comment'
 WHERE state LIKE 'comment:%';
UPDATE conversations
   SET draft = json_set(draft, '$.consultation_id', CAST(substr(state, 10) AS INTEGER)),
       state = 'consult:comment'
 WHERE state LIKE 'ccomment:%';
-- A staff member's pending Reply or fix photo expires within minutes: it is simply dropped.
UPDATE conversations SET state = 'menu:main', draft = '{}'
 WHERE state LIKE 'staff:reply:%' OR state LIKE 'staff:fixphoto:%';

-- A reopened report's SLA (and its escalation at twice the SLA) counts from the reopening.
ALTER TABLE reports ADD COLUMN sla_started_at TEXT;
UPDATE reports SET sla_started_at = created_at;

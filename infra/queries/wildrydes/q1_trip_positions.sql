-- Every position one unicorn reported, in order: its trip on a map.
-- The one parameter is the unicorn's name, e.g. 'Shadowfax'.
SELECT statustime, latitude, longitude
FROM wildrydes
WHERE name = ?
ORDER BY statustime

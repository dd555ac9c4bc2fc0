-- Every data point captured after a given moment.
-- The one parameter is a UTC timestamp such as '2026-11-22 14:05:00'.
SELECT name, statustime, latitude, longitude, distance, healthpoints, magicpoints
FROM wildrydes
WHERE statustime > CAST(? AS timestamp)
ORDER BY statustime, name
